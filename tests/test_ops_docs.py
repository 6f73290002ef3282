"""docs/operations.md and bench/README.md stay true to the tree: links resolve, every
benchmark script has its row, the commands the operations page tells admins to run exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "docs" / "operations.md", ROOT / "bench" / "README.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text("utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://")):
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_every_benchmark_script_has_a_row() -> None:
    text = (ROOT / "bench" / "README.md").read_text("utf-8")
    for script in sorted((ROOT / "bench").glob("*.py")):
        assert f"bench/{script.name}" in text, f"bench/README.md: no row for {script.name}"


def test_commands_on_the_operations_page_exist() -> None:
    import typer.main

    from tingfeng.cli import app

    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    text = (ROOT / "docs" / "operations.md").read_text("utf-8")
    named = set(re.findall(r"`tingfeng (?:-c \S+ )?([a-z]+)", text))
    # Commands that arrive with other work of this session (API, worker) are checked once
    # their modules exist.
    later = {
        name for name in ("serve", "worker") if not (ROOT / "tingfeng/cli" / f"{name}.py").exists()
    }
    missing = named - commands - later
    assert not missing, f"docs/operations.md names commands that do not exist: {sorted(missing)}"
    assert {"backup", "restore", "migrate"} <= named
