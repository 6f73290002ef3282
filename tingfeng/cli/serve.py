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
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Serve only (for extra API workers).")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API worker processes (each opens the store).")
    ] = 1,
) -> None:
    """Start the API and the dashboard.

    No scheduler exists yet (it arrives with alerting): with or without --no-scheduler this
    only serves; run ``tingfeng detect`` / ``tingfeng crawl`` from cron meanwhile.
    """
    import uvicorn

    from api.app import create_app
    from api.settings import SettingsError

    config = state.config
    try:
        config.api.check_secret()
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    if not no_scheduler:
        console.print("提示：定时任务（调度器）尚未实现，本进程只提供 API 与看板。")
    console.print(f"听风 API 与看板：http://{host}:{port}/ （环境 {config.api.environment}）")
    if workers == 1:
        application = create_app(config, warm_up=True)
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
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


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, ._-).")],
    role: Annotated[str, typer.Option(help="monitor | officer | analyst | admin")],
    display_name: Annotated[str, typer.Option(help="Name shown on the dashboard.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user (the first one should be an admin)."""
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
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
    with open_configured_store() as store:
        try:
            user = create_user(
                store, name, chosen, password, actor="cli", display_name=display_name
            )
        except AuthError as exc:
            raise UserError(f"{exc.field}: {exc.problem}") from None
    console.print(f"已创建用户 {user.id}（{user.role.value}）")
