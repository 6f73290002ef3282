"""``tingfeng serve`` (API + dashboard) and ``tingfeng user add`` (accounts, first admin)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tingfeng.cli.app import UserError, app, console, open_configured_store, state

user_app = typer.Typer(help="用户管理 / user accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址。")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="监听端口。")] = 8000,
    no_scheduler: Annotated[
        bool,
        typer.Option("--no-scheduler", help="只提供 API，不启动调度器（用于额外的 API 进程）。"),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="API 进程数（每个进程各自打开存储；大于 1 时须加 --no-scheduler）。",
        ),
    ] = 1,
) -> None:
    """启动 API、监测台与调度器。Start the API, the dashboard and the scheduler.

    The scheduler is the one ``tingfeng worker`` runs (crawls, detection, alerting, sending,
    digests), started with the app and stopped with it. Only one scheduler may run per store:
    if a worker or another serve holds the store's scheduler lock, serve refuses to start.
    --no-scheduler serves only (extra API processes beside one scheduler); --workers N > 1
    requires it, since each worker process would otherwise start its own scheduler.
    """
    import uvicorn

    from api.app import create_app
    from api.settings import SettingsError

    config = state.config
    try:
        config.api.check_secret()
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    if workers > 1 and not no_scheduler:
        raise UserError(
            f"--workers {workers}：多进程时每个进程都会启动调度器；请加 --no-scheduler，"
            "并另行运行一个 tingfeng worker"
        )
    scheduler = None if no_scheduler else _embedded_scheduler(config)
    where = "API、看板与调度器" if scheduler is not None else "API 与看板（无调度器）"
    console.print(f"听风 {where}：http://{host}:{port}/ （环境 {config.api.environment}）")
    if workers == 1:
        application = create_app(config, warm_up=True, scheduler=scheduler)
        try:
            uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
        finally:
            if scheduler is not None:
                scheduler.stop()  # no-op after the lifespan stopped it; frees the lock if not
        return
    import os

    if config.source_file is not None:
        os.environ["TINGFENG_CONFIG"] = str(config.source_file.resolve())
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


def _embedded_scheduler(config: object) -> object:
    """The scheduler for this serve, its lock already taken (one line, exit 2, when another
    worker or serve holds it, or the alerting set-up is wrong)."""
    from alerting.channels import ChannelError
    from alerting.yamlpos import PolicyError
    from tingfeng.services.worker import EmbeddedScheduler, WorkerError

    path = str(state.config_path) if state.config_path else None
    scheduler = EmbeddedScheduler(config, path)
    try:
        scheduler.lock()
    except WorkerError as exc:
        raise UserError(
            f"{exc}（调度锁 {scheduler.lock_path}）；只提供 API 请加 --no-scheduler"
        ) from None
    except (PolicyError, ChannelError) as exc:
        raise UserError(str(exc)) from None
    return scheduler


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(metavar="用户名", help="用户名（字母、数字、._-）。")],
    role: Annotated[
        str,
        typer.Option(
            help="角色：monitor（监测员）、officer（宣传/发言人）、analyst（分析员）、"
            "admin（管理员）。"
        ),
    ],
    display_name: Annotated[str, typer.Option(help="监测台上显示的姓名。")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码。")
    ] = False,
) -> None:
    """创建用户（第一个用户应为管理员）。Create a user (the first one should be an admin)."""
    from api.services.auth import AuthError, create_user
    from models import Role

    try:
        chosen = Role(role)
    except ValueError:
        raise UserError(
            f"--role: 未知角色 {role!r}（可选 monitor、officer、analyst、admin）"
        ) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("密码", hide_input=True)
        if typer.prompt("再次输入密码", hide_input=True) != password:
            raise UserError("两次输入的密码不一致，未创建用户")
    with open_configured_store(create=True) as store:
        try:
            user = create_user(
                store, name, chosen, password, actor="cli", display_name=display_name
            )
        except AuthError as exc:
            raise UserError(f"{exc.field}: {exc.problem}") from None
    console.print(f"已创建用户 {user.id}（{user.role.value}）")
