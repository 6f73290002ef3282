"""``tingfeng demo``: the whole product on the demo city 江屿市, offline (see
:mod:`tingfeng.demo.run` and docs/demo.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tingfeng.cli.app import UserError, app

USAGE = "用法：tingfeng demo [--dir 目录] [--port 端口] [--fast [--exit]] [--reset]"


def _number(value: str, option: str, kind: type = float) -> float:
    try:
        return kind(value)
    except ValueError:
        what = "整数" if kind is int else "数字"
        raise UserError(f"{option}：应为{what}，而不是 {value!r}（{USAGE}）") from None


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def demo(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Option("--dir", help="演示目录（配置、存储、账号）/ demo folder.")
    ] = Path("tingfeng-demo"),
    port: Annotated[
        str, typer.Option(help="监测台端口（0 = 任选空闲端口）/ dashboard port.")
    ] = "8000",
    story_port: Annotated[
        str, typer.Option(help="演示城市站点的端口（默认任选）/ story sites' port.")
    ] = "0",
    speed: Annotated[str, typer.Option(help="故事时钟倍速（默认 36）/ story clock speed.")] = "36",
    start: Annotated[str, typer.Option(help="故事开始时间 HH:MM / story start time.")] = "19:30",
    fast: Annotated[
        bool,
        typer.Option("--fast", help="不等待：逐步推进故事时钟并汇总 / step through the story."),
    ] = False,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="与 --fast 同用：汇总后退出 / exit after the summary.")
    ] = False,
    step: Annotated[
        str, typer.Option(help="--fast 的步长（故事分钟，默认 15）/ story minutes per step.")
    ] = "15",
    reset: Annotated[
        bool, typer.Option("--reset", help="清空演示目录重新开始 / start afresh.")
    ] = False,
) -> None:
    """一条命令运行完整演示：虚构城市、爬虫、检测、预警、草稿、看板。Run the offline demo.

    Serves the fictional city 江屿市 on 127.0.0.1, crawls it with the real spiders on the
    real scheduler on an accelerated story clock, and serves the API and dashboard. A rerun
    in the same folder resumes the story; --reset starts afresh.
    """
    from tingfeng.demo.run import DemoError, DemoOptions, run_demo

    if ctx.args:
        raise UserError(f"无法识别的参数：{' '.join(ctx.args)}（{USAGE}）")
    if exit_after and not fast:
        raise UserError(f"--exit 只能与 --fast 一起使用（{USAGE}）")
    opts = DemoOptions(
        folder=folder,
        port=int(_number(port, "--port", int)),
        story_port=int(_number(story_port, "--story-port", int)),
        speed=_number(speed, "--speed"),
        start=start,
        fast=fast,
        exit_after=exit_after,
        reset=reset,
        step_minutes=_number(step, "--step"),
        out=lambda text: print(text, flush=True),
    )
    try:
        code = run_demo(opts)
    except DemoError as exc:
        raise UserError(str(exc)) from None
    sys.exit(code)
