"""Bulletin and report commands: ``tingfeng bulletin …`` and ``tingfeng report …``."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from tingfeng.cli.app import UserError, app, console, open_configured_store, state

stdout = Console()
bulletin_app = typer.Typer(help="通报：起草、审核、发布 / bulletins: draft, approve, publish.")
app.add_typer(bulletin_app, name="bulletin")

AtOption = Annotated[
    str | None,
    typer.Option("--at", metavar="时间", help="参考时间（ISO 8601，默认当前时间）。"),
]
ByOption = Annotated[
    str | None, typer.Option("--by", metavar="姓名", help="操作人（默认：当前登录名）。")
]
#: Bulletin workflow states as the office says them.
STATUS = {"draft": "草稿", "submitted": "待审核", "approved": "已审核", "published": "已发布"}


def _at(value: str | None) -> datetime:
    from models import ensure_aware, now_utc

    if not value:
        return now_utc()
    try:
        return ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        raise UserError(f"--at: 不是 ISO 8601 时间：{value!r}") from None


def _by(value: str | None) -> str:
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _json(data: object) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def _service(func, *args, **kwargs):
    from store import ConflictError
    from tingfeng.services.bulletins import BulletinServiceError

    try:
        return func(*args, **kwargs)
    except BulletinServiceError as exc:
        raise UserError(str(exc)) from None
    except ConflictError as exc:
        raise UserError(
            f"--version：通报 {exc.record_id} 已被他人修改：你看到的是第 {exc.expected} 版，"
            f"当前为第 {exc.actual} 版；请用 tingfeng bulletin show {exc.record_id} 查看后重试"
        ) from None


#: The version the officer read (``bulletin show`` prints it): the step applies to that
#: version only, so a change by someone else in between is refused, not acted on.
VersionOption = Annotated[
    int | None,
    typer.Option(
        "--version",
        min=1,
        help="只在通报仍是此版本时操作（版本号见 tingfeng bulletin show）。",
    ),
]


def _show(bulletin, as_json: bool, text: bool) -> None:
    from tingfeng.services import bulletins as svc

    if as_json:
        _json(bulletin.model_dump(mode="json"))
        return
    if text:
        stdout.print(_service(svc.weibo, bulletin).text, markup=False, highlight=False)
        return
    stdout.print(
        f"通报 {bulletin.id}（{bulletin.bulletin_kind.value}，{STATUS[bulletin.status.value]}，"
        f"版本 {bulletin.version}）",
        markup=False,
    )
    stdout.print(f"\n{bulletin.title}\n\n{bulletin.body}\n", markup=False, highlight=False)
    if bulletin.placeholders:
        stdout.print(f"待核实 {len(bulletin.placeholders)} 处，审核前须补全。", markup=False)
    notes = bulletin.facts.get("notes")
    if notes:
        stdout.print(f"\n{notes}", markup=False, highlight=False)


@bulletin_app.command("draft")
def draft(
    incident: Annotated[str, typer.Argument(metavar="事件编号", help="事件编号。")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            help="通报类型：situation（情况通报）、rebuttal（辟谣）、response（回应）、"
            "progress（进展），或模板名。",
        ),
    ] = "situation",
    docx: Annotated[
        Path | None, typer.Option("--docx", metavar="文件", help="同时写出 .docx 文件。")
    ] = None,
    text: Annotated[bool, typer.Option("--text", help="只输出微博文本。")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出记录。")] = False,
    at: AtOption = None,
    by: ByOption = None,
) -> None:
    """起草通报：依据事件自身的帖子起草（[待核实] 标出须核实之处）。Draft a bulletin."""
    from tingfeng.services import bulletins as svc

    config = state.config
    when = _at(at)
    with open_configured_store() as store:
        bulletin = _service(svc.draft, store, config, incident, now=when, by=_by(by), kind=kind)
    if docx is not None:
        _service(svc.export_docx, bulletin, config, docx)
        console.print(f"已写入 {docx}")
    _show(bulletin, as_json, text)


@bulletin_app.command("show")
def show(
    bulletin_id: Annotated[str, typer.Argument(metavar="通报编号", help="通报编号。")],
    docx: Annotated[
        Path | None, typer.Option("--docx", metavar="文件", help="写出 .docx 文件。")
    ] = None,
    text: Annotated[bool, typer.Option("--text", help="只输出微博文本。")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出记录。")] = False,
) -> None:
    """查看通报（可导出 .docx）。Show a bulletin (and export it)."""
    from tingfeng.services import bulletins as svc

    with open_configured_store() as store:
        bulletin = _service(svc.get, store, bulletin_id)
    if docx is not None:
        _service(svc.export_docx, bulletin, state.config, docx)
        console.print(f"已写入 {docx}")
    _show(bulletin, as_json, text)


def _step(name: str):
    def command(
        bulletin_id: Annotated[str, typer.Argument(metavar="通报编号", help="通报编号。")],
        at: AtOption = None,
        by: ByOption = None,
        version: VersionOption = None,
    ) -> None:
        from tingfeng.services import bulletins as svc

        with open_configured_store() as store:
            bulletin = _service(
                getattr(svc, name), store, bulletin_id, by=_by(by), now=_at(at), version=version
            )
        stdout.print(f"通报 {bulletin.id}：{STATUS[bulletin.status.value]}", markup=False)

    command.__doc__ = {
        "submit": "提交审核。Submit a draft for approval.",
        "approve": "审核通过（审核人不能是起草人，且不能留有 [待核实]）。Approve a bulletin.",
    }[name]
    return command


bulletin_app.command("submit")(_step("submit"))
bulletin_app.command("approve")(_step("approve"))


@bulletin_app.command("refresh")
def refresh(
    bulletin_id: Annotated[str, typer.Argument(metavar="通报编号", help="通报编号。")],
    at: AtOption = None,
    by: ByOption = None,
    version: VersionOption = None,
) -> None:
    """按事件最新情况重新生成草稿（同一模板；被替换的文字留在记录中）。Redraft from the incident."""
    from tingfeng.services import bulletins as svc

    with open_configured_store() as store:
        bulletin = _service(
            svc.refresh,
            store,
            state.config,
            bulletin_id,
            by=_by(by),
            now=_at(at),
            version=version,
        )
    if bulletin is None:
        stdout.print(f"通报 {bulletin_id}：事件没有新情况，草稿未变", markup=False)
        return
    posts = bulletin.history[-1].get("posts")
    stdout.print(
        f"通报 {bulletin.id}：已按最新情况重新生成（事件 {posts} 帖，第 {bulletin.version} 版）",
        markup=False,
    )


@bulletin_app.command("publish")
def publish(
    bulletin_id: Annotated[str, typer.Argument(metavar="通报编号", help="通报编号。")],
    url: Annotated[
        str | None, typer.Option("--url", metavar="链接", help="官方发布的链接。")
    ] = None,
    at: AtOption = None,
    by: ByOption = None,
    version: VersionOption = None,
) -> None:
    """标记已发布（记为该事件的官方回应）。Mark an approved bulletin as published."""
    from tingfeng.services import bulletins as svc

    with open_configured_store() as store:
        bulletin = _service(
            svc.publish, store, bulletin_id, by=_by(by), now=_at(at), url=url, version=version
        )
    stdout.print(f"通报 {bulletin.id}：{STATUS[bulletin.status.value]}", markup=False)


@bulletin_app.command("templates")
def templates() -> None:
    """列出通报模板（内置的与本单位的），并逐一检查。List the bulletin templates."""
    from tingfeng.services import bulletins as svc

    loaded = _service(svc.load_templates, state.config)
    for name in loaded.names():
        template = loaded.get(name)
        stdout.print(f"{name}\t{template.kind.value}\t{template.spec.where}", markup=False)


@bulletin_app.command("responses")
def responses(
    incident: Annotated[str, typer.Argument(metavar="事件编号", help="事件编号。")],
    at: AtOption = None,
    hours: Annotated[float, typer.Option(min=0.5, help="比较回应前后各多少小时。")] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出。")] = False,
) -> None:
    """官方回应及其效果：关联本单位的帖子与事件，显示回应及首次回应前后的传播。

    Link the office's posts to incidents, then show this incident's responses and the
    claim's spread before and after the first one."""
    from tingfeng.services import bulletins as svc

    when = _at(at)
    with open_configured_store() as store:
        svc.track_responses(store, state.config, now=when)
        records = _service(svc.responses, store, incident)
        effect = _service(svc.effect, store, state.config, incident, now=when, hours=hours)
    if as_json:
        _json(
            {
                "responses": [r.model_dump(mode="json") for r in records],
                "effect": effect.as_dict() if effect else None,
            }
        )
        return
    if not records:
        stdout.print("尚无官方回应。", markup=False)
    for r in records:
        clocks = "，".join(f"{k} {'按时' if v else '超时'}" for k, v in r.on_time.items())
        stdout.print(
            f"{r.posted_at.isoformat()} {r.author or ''} {r.url or r.post_id} "
            f"（事发后 {r.minutes_after_first_seen} 分钟{'，' + clocks if clocks else ''}）",
            markup=False,
        )
    if effect:
        for name, w in (("回应前", effect.before), ("回应后", effect.after)):
            stdout.print(
                f"{name}：帖文 {w.claim_posts_per_hour} 条/时，转发 {w.reposts_per_hour} 次/时，"
                f"质疑 {w.doubt_share}，辟谣 {w.rebut_share}",
                markup=False,
            )


@app.command()
def report(
    period: Annotated[
        str,
        typer.Argument(metavar="周期", help="daily（日报）、weekly（周报）或 monthly（月报）。"),
    ],
    docx: Annotated[
        Path | None, typer.Option("--docx", metavar="文件", help="同时写出带图表的 .docx。")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出。")] = False,
    at: AtOption = None,
) -> None:
    """舆情日报、周报、月报：Markdown，或带图表的 .docx。Daily, weekly or monthly report."""
    from tingfeng.services import reports as svc

    if period not in ("daily", "weekly", "monthly"):
        raise UserError(f"report: 未知的报告周期 {period!r}（daily、weekly、monthly）")
    with open_configured_store() as store:
        built = svc.build(store, state.config, period, at=_at(at))  # type: ignore[arg-type]
    if docx is not None:
        try:
            svc.docx(built, state.config, docx)
        except svc.ReportError as exc:
            raise UserError(str(exc)) from None
        console.print(f"已写入 {docx}")
    if as_json:
        _json(built.as_dict())
        return
    sys.stdout.write(svc.markdown(built) + "\n")
