"""Rumor commands: train, evaluate (also cross-validate), explain, claims."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from text.zh import reason as zh_reason
from tingfeng.cli.app import (
    UserError,
    app,
    console,
    load_dictionaries,
    open_configured_store,
    state,
)


def _model(path: Path | None) -> Any:
    from nlp.rumor.model import ModelError, load_model

    configured = state.config.nlp.rumor_model  # also loads the configured dictionaries
    chosen = path or configured
    try:
        return load_model(chosen)
    except ModelError as exc:
        raise UserError(str(exc)) from None


def _dataset(data: Path) -> Any:
    from nlp.rumor.training import load_dataset

    if not data.is_dir():
        raise UserError(f"{data}: 不是目录")
    load_dictionaries()
    try:
        return load_dataset(data)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None


def _print_skips(dataset: Any) -> None:
    report = dataset.report
    for reason, count in sorted(report.skipped.items()):
        where = "; ".join(report.examples.get(reason, [])[:2])
        console.print(
            f"跳过 {count} 个：{zh_reason(reason)}（例如 {where}）", highlight=False, markup=False
        )


def _parse_horizon(text: str | None) -> timedelta | None:
    if text in (None, "", "all"):
        return None
    try:
        value = float(text.rstrip("hH"))
    except ValueError:
        raise UserError(
            f"--horizon: 应为小时数，如 0h、1h、6h，或 all（全部），而不是 {text!r}"
        ) from None
    return timedelta(hours=value)


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", metavar="目录", help="CED 格式的数据目录。")],
    out: Annotated[
        Path, typer.Option("--out", metavar="文件", help="要写出的模型文件（.skops）。")
    ],
    local: Annotated[
        list[Path] | None,
        typer.Option("--local", metavar="文件", help="一并用于训练的本地标注集（.tsv，可重复）。"),
    ] = None,
) -> None:
    """训练谣言模型（CED 格式数据及本地标注集）。Train the rumor classifier."""
    from nlp.rumor.local import LocalSetError, load_local
    from nlp.rumor.training import train as fit

    dataset = _dataset(data)
    _print_skips(dataset)
    if len(dataset) == 0:
        raise UserError(f"{data}: 没有可用于训练的已标注事件")
    if local:
        try:
            dataset = dataset + load_local(*local).dataset()
        except LocalSetError as exc:
            raise UserError(str(exc)) from None
    try:
        model = fit(dataset)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    model.meta["data"] = data.name
    model.meta["local"] = [p.name for p in local or []]
    path = model.save(out)
    size = path.stat().st_size / 1e6
    console.print(
        f"已用 {len(dataset)} 个事件训练，耗时 {model.meta['train_seconds']} 秒"
        f" → {path}（{size:.1f} MB）",
        highlight=False,
    )


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option("--data", metavar="目录", help="CED 格式的数据目录。")],
    model: Annotated[
        Path | None,
        typer.Option("--model", metavar="文件", help="模型文件（默认：配置的或随附的模型）。"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以一个 JSON 对象输出。")] = False,
    cv: Annotated[
        int,
        typer.Option("--cv", help="改为：在 --data 上做 K 折分组交叉验证训练。"),
    ] = 0,
    local: Annotated[
        list[Path] | None,
        typer.Option(
            "--local", metavar="文件", help="与 --cv 同用：每折训练都加入的本地标注集（.tsv）。"
        ),
    ] = None,
) -> None:
    """评估谣言模型：准确率、F1、ROC-AUC、Brier，总体及原帖发布后 0–24 小时。Evaluate."""
    from nlp.rumor.evaluation import evaluate as run_evaluation
    from nlp.rumor.training import cross_validate

    dataset = _dataset(data)
    _print_skips(dataset)
    if len(dataset) == 0:
        raise UserError(f"{data}: 没有可评估的已标注事件")
    if cv:
        if cv < 2:
            raise UserError(f"--cv: 至少 2 折，而不是 {cv}")
        from nlp.rumor.local import LocalSetError, load_local

        try:
            extra = load_local(*local).dataset() if local else None
        except LocalSetError as exc:
            raise UserError(str(exc)) from None
        result = cross_validate(dataset, folds=cv, extra=extra)
    else:
        loaded = _model(model)
        result = run_evaluation(loaded, dataset)
        result["model_version"] = loaded.version
    result["skipped"] = dict(dataset.report.skipped)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    _print_evaluation(result)


#: Horizons are reposts seen up to that time after the source post; "全部": all reposts.
#: (key, column header) of the evaluation table.
METRIC_COLUMNS = (
    ("n", "样本"),
    ("accuracy", "准确率"),
    ("precision", "精确率"),
    ("recall", "召回率"),
    ("f1", "F1"),
    ("macro_f1", "宏F1"),
    ("roc_auc", "AUC"),
    ("brier", "Brier"),
)
HORIZON_LABELS = {"all": "全部"}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def _print_evaluation(result: dict[str, Any]) -> None:
    """The metrics as a table: one row per horizon (reposts seen up to that time)."""
    from rich.console import Console
    from rich.table import Table

    out = Console()
    cv = result.get("cv") or {}
    if cv:
        title = f"谣言模型交叉验证：{cv['folds']} 折，按相同源文本分组（{cv['groups']} 组）"
    else:
        title = f"谣言模型评估（模型 {result.get('model_version', '?')}）"
    table = Table(title=title, title_justify="left")
    table.add_column("时间窗", no_wrap=True)
    for _, header in METRIC_COLUMNS:
        table.add_column(header, justify="right")
    for name, m in result["early"].items():
        label = HORIZON_LABELS.get(name, name)
        table.add_row(label, *(_cell(m.get(key)) for key, _ in METRIC_COLUMNS))
    out.print(table)
    folds = cv.get("fold_accuracy")
    if folds:
        per_fold = Table(title="各折准确率", title_justify="left")
        per_fold.add_column("时间窗", no_wrap=True)
        width = max(len(v) for v in folds.values())
        for i in range(width):
            per_fold.add_column(f"第 {i + 1} 折", justify="right")
        for name, values in folds.items():
            per_fold.add_row(HORIZON_LABELS.get(name, name), *(f"{v:.4f}" for v in values))
        out.print(per_fold)
    skipped = result.get("skipped") or {}
    if skipped:
        for reason, count in sorted(skipped.items()):
            out.print(f"跳过 {count} 个事件：{zh_reason(reason)}", highlight=False, markup=False)
    else:
        out.print("没有跳过的事件", highlight=False)


@app.command()
def explain(
    text: Annotated[
        str | None, typer.Option("--text", metavar="文本", help="只对这段文本评分。")
    ] = None,
    post: Annotated[
        str | None,
        typer.Option(
            "--post", metavar="帖子编号", help="已入库的帖子（来源:原始编号），带作者资料与转发。"
        ),
    ] = None,
    incident: Annotated[
        str | None,
        typer.Option(
            "--incident", metavar="事件编号", help="已入库的事件：说法帖、官方回应、谣言分及依据。"
        ),
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", metavar="目录", help="CED 格式的数据目录。")
    ] = None,
    event: Annotated[
        str | None, typer.Option("--event", metavar="编号", help="--data 中的事件编号。")
    ] = None,
    horizon: Annotated[
        str | None,
        typer.Option("--horizon", metavar="时长", help="只用此时长内的转发（如 1h）。"),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", metavar="文件", help="模型文件。")
    ] = None,
) -> None:
    """解释谣言概率：一段文本、一条已入库帖子、一个事件或一个 CED 事件的概率及依据（JSON）。
    Explain a rumor score."""
    from nlp.rumor.explain import explain as run_explain
    from nlp.rumor.features import RumorInput

    given = [
        name
        for name, value in (("--text", text), ("--post", post), ("--incident", incident))
        if value is not None
    ] + (["--data"] if data is not None else [])
    if len(given) > 1:
        raise UserError(f"{'、'.join(given)} 只能选一个（见 tingfeng explain --help）")
    if post is not None or incident is not None:
        from tingfeng.services import explain as service

        def load() -> Any:
            return _model(model)

        with open_configured_store(readonly=True) as store:
            if post is not None:
                result = service.explain_post(
                    store, load, post.strip(), horizon=_parse_horizon(horizon)
                )
            else:
                result = service.explain_incident(
                    store, state.config.office, str(incident).strip(), load_model=load
                )
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        return
    loaded = _model(model)
    if text is not None:
        inp = RumorInput(source_id=None, text=text, created_at=None, author=None)
    elif data is not None and event:
        from ingest.ced import iter_events

        found = next((e for e in iter_events(data) if e.event_id == event), None)
        if found is None:
            raise UserError(f"{data}: 没有编号为 {event!r} 的事件")
        inp = RumorInput.from_posts(found.source, found.reposts)
    else:
        raise UserError(
            "请给出 --text 文本、--post 帖子编号、--incident 事件编号，"
            "或 --data 目录 加 --event 编号（见 tingfeng explain --help）"
        )
    result = run_explain(loaded, inp, horizon=_parse_horizon(horizon))
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


@app.command()
def claims(
    text: Annotated[str, typer.Argument(metavar="文本", help="新帖或事件的文本。")],
    top: Annotated[int, typer.Option("--top", min=1, max=50, help="最多列出几条。")] = 5,
) -> None:
    """查找相似旧谣言：说法相同的已存谣言与通报（JSON lines）。Similar earlier claims."""
    from nlp.claims import index_from_store

    with open_configured_store() as store:
        index = index_from_store(store)
    for match in index.match(text, top=top):
        sys.stdout.write(json.dumps(match.as_dict(), ensure_ascii=False) + "\n")
