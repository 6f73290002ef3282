"""Rumor commands: train, evaluate (also cross-validate), explain, claims."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

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
        raise UserError(f"{data}: not a directory")
    load_dictionaries()
    try:
        return load_dataset(data)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None


def _print_skips(dataset: Any) -> None:
    report = dataset.report
    for reason, count in sorted(report.skipped.items()):
        where = "; ".join(report.examples.get(reason, [])[:2])
        console.print(f"skipped {count} × {reason} (e.g. {where})", highlight=False, markup=False)


def _parse_horizon(text: str | None) -> timedelta | None:
    if text in (None, "", "all"):
        return None
    try:
        value = float(text.rstrip("hH"))
    except ValueError:
        raise UserError(
            f"--horizon: expected hours like 0h, 1h, 6h or 'all', got {text!r}"
        ) from None
    return timedelta(hours=value)


@app.command()
def train(
    data: Annotated[Path, typer.Option("--data", help="Directory in the CED layout.")],
    out: Annotated[Path, typer.Option("--out", help="Model file to write (.skops).")],
    local: Annotated[
        list[Path] | None,
        typer.Option("--local", help="Labelled local set (.tsv) to train on too; repeatable."),
    ] = None,
) -> None:
    """训练谣言模型。Train the rumor classifier on CED-layout data and local labelled sets."""
    from nlp.rumor.local import LocalSetError, load_local
    from nlp.rumor.training import train as fit

    dataset = _dataset(data)
    _print_skips(dataset)
    if len(dataset) == 0:
        raise UserError(f"{data}: no labelled events to train on")
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
        f"trained on {len(dataset)} events in {model.meta['train_seconds']} s"
        f" → {path} ({size:.1f} MB)",
        highlight=False,
    )


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option("--data", help="Directory in the CED layout.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Model file (default: configured or shipped).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    cv: Annotated[
        int,
        typer.Option("--cv", help="Instead: K-fold grouped cross-validation of training on DATA."),
    ] = 0,
    local: Annotated[
        list[Path] | None,
        typer.Option("--local", help="With --cv: local sets (.tsv) in every fold's training."),
    ] = None,
) -> None:
    """评估谣言模型。Accuracy, F1, ROC-AUC, Brier overall and 0h–24h after the source."""
    from nlp.rumor.evaluation import evaluate as run_evaluation
    from nlp.rumor.training import cross_validate

    dataset = _dataset(data)
    _print_skips(dataset)
    if len(dataset) == 0:
        raise UserError(f"{data}: no labelled events to evaluate")
    if cv:
        if cv < 2:
            raise UserError("--cv: needs at least 2 folds")
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
        per_fold = Table(title="各折准确率 / accuracy per fold", title_justify="left")
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
            out.print(f"跳过 {count} 个事件：{reason}", highlight=False, markup=False)
    else:
        out.print("没有跳过的事件", highlight=False)


@app.command()
def explain(
    text: Annotated[str | None, typer.Option("--text", help="Score this text alone.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="CED-layout directory.")] = None,
    event: Annotated[str | None, typer.Option("--event", help="Event id in --data.")] = None,
    horizon: Annotated[
        str | None, typer.Option("--horizon", help="Use reposts up to this time (e.g. 1h).")
    ] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Model file.")] = None,
) -> None:
    """解释谣言概率。Rumor probability of a text or a CED event, with its reasons (JSON)."""
    from nlp.rumor.explain import explain as run_explain
    from nlp.rumor.features import RumorInput

    loaded = _model(model)
    if text is not None:
        inp = RumorInput(source_id=None, text=text, created_at=None, author=None)
    elif data is not None and event:
        from ingest.ced import iter_events

        found = next((e for e in iter_events(data) if e.event_id == event), None)
        if found is None:
            raise UserError(f"{data}: no event {event!r}")
        inp = RumorInput.from_posts(found.source, found.reposts)
    else:
        raise UserError("give --text, or --data with --event")
    result = run_explain(loaded, inp, horizon=_parse_horizon(horizon))
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")


@app.command()
def claims(
    text: Annotated[str, typer.Argument(help="Text of a new post or incident.")],
    top: Annotated[int, typer.Option("--top", min=1, max=50)] = 5,
) -> None:
    """查找相似旧谣言。Earlier stored rumors and bulletins that say the same (JSON lines)."""
    from nlp.claims import index_from_store

    with open_configured_store() as store:
        index = index_from_store(store)
    for match in index.match(text, top=top):
        sys.stdout.write(json.dumps(match.as_dict(), ensure_ascii=False) + "\n")
