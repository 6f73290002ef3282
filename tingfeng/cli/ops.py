"""Operations commands: ``tingfeng backup DEST``, ``tingfeng restore SRC`` (SQLite store) and
``tingfeng migrate`` (bring a store's schema up to this version, as an upgrade's first step).

Elasticsearch stores are backed up with the cluster's own snapshots (docs/operations.md);
these commands refuse them with one line saying so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from tingfeng.cli.app import UserError, app, open_configured_store, state

ES_HINT = (
    "Elasticsearch 存储请用集群快照备份与恢复（_snapshot），见 docs/operations.md"
    " / use Elasticsearch snapshots for an Elasticsearch store"
)


def worker_lock_path(config: Any) -> Path:
    """The lock a running ``tingfeng worker`` holds for this store (``<job store>.lock``)."""
    from tingfeng.services.worker import SingleWorker, jobstore_path

    return SingleWorker(jobstore_path(config)).path


def _sqlite_path() -> Path:
    cfg = state.config
    if cfg.store.backend != "sqlite":
        raise UserError(ES_HINT)
    return Path(cfg.store.path)


def _print(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        # Plain lines, never wrapped: the paths in them must stay whole for scripts.
        sys.stdout.write("".join(f"{line}\n" for line in lines))


def _counts(s: Any) -> str:
    return (
        f"信息 {s.posts} 条，记录 {s.records} 条，传播快照 {s.snapshots} 条，"
        f"schema 版本 {s.schema_version}，{s.bytes / 1e6:.1f} MB"
    )


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="备份文件，或放带时间戳备份文件的目录")],
    force: Annotated[bool, typer.Option("--force", help="覆盖已有的备份文件")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """在线备份 SQLite 存储（写入进程不必停止）/ online backup of the SQLite store."""
    from store.backup import backup as run_backup

    summary = run_backup(_sqlite_path(), dest, overwrite=force)
    _print(
        summary.as_dict(),
        as_json,
        [f"已备份到 {summary.path}", _counts(summary)],
    )


@app.command()
def restore(
    src: Annotated[Path, typer.Argument(help="由 tingfeng backup 生成的备份文件")],
    discard_current: Annotated[
        bool,
        typer.Option(
            "--discard-current",
            help="不保留当前存储的副本（默认保存为 <存储>.before-restore-<时间>）",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """用备份替换当前 SQLite 存储（须先停止 tingfeng worker）/ restore the store from a backup."""
    from store.backup import restore as run_restore

    path = _sqlite_path()
    result = run_restore(
        src, path, worker_lock=worker_lock_path(state.config), keep_current=not discard_current
    )
    lines = [f"已从 {src} 恢复到 {path}", _counts(result.restored)]
    if result.previous:
        lines.append(f"原存储已保存为 {result.previous}")
    _print(result.as_dict(), as_json, lines)


@app.command()
def migrate(
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """升级后迁移存储结构（SQLite schema / Elasticsearch 映射）/ migrate the store forward."""
    from store.backup import inspect_store

    cfg = state.config
    sqlite = cfg.store.backend == "sqlite"
    path = Path(cfg.store.path)
    before = inspect_store(path).schema_version if sqlite and path.exists() else None
    with open_configured_store():  # opening for writing runs the forward migrations
        pass
    if not sqlite:
        _print(
            {"backend": cfg.store.backend, "migrated": True},
            as_json,
            ["Elasticsearch 索引模板与映射已检查并更新到当前版本"],
        )
        return
    after = inspect_store(path)
    line = (
        f"存储 {path}：schema 版本 {before} → {after.schema_version}"
        if before is not None and before != after.schema_version
        else f"存储 {path}：schema 版本 {after.schema_version}，无需迁移"
    )
    _print({"path": str(path), "before": before, "after": after.schema_version}, as_json, [line])
