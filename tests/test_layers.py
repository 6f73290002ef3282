"""Layers import downward only (docs: README "Architecture"):

    models ← text tools ← store ← ingest / crawler / nlp ← alerting ← api / tingfeng

Text tools are the ``text`` package and the tokeniser ``nlp/tokenize.py`` with its data
(``nlp/__init__.py`` imports nothing, so importing the tokeniser does not pull in the NLP
layer). Packages of one layer may import each other. Exempt, and only these: imports under
``if TYPE_CHECKING:`` (annotations, never run) and under ``if __name__ == "__main__":`` (a
module run as a script is an entry point, the top of the stack: ``python -m crawler.run``
hands over to ``tingfeng.crawl_process``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "text", "store", "ingest", "crawler", "nlp", "alerting", "api", "tingfeng")
LAYER = {
    "models": 0,
    "text": 1,
    "nlp.tokenize": 1,
    "nlp.data": 1,
    "nlp": 3,
    "store": 2,
    "ingest": 3,
    "crawler": 3,
    "alerting": 4,
    "api": 5,
    "tingfeng": 5,
}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        layer = LAYER.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    return None  # the standard library or a third-party package


def module_name(path: Path, root: Path = REPO) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _exempt(test: ast.expr) -> bool:
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return True
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def imports(path: Path, root: Path = REPO) -> list[tuple[int, str]]:
    """(line, module) of every import that runs, resolving relative imports."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _exempt(child.test):
                for sub in child.orelse:
                    visit_one(sub)
                continue
            visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from nlp import tokenize`` imports the submodule
            for alias in node.names:
                found.append((node.lineno, f"{target}.{alias.name}"))
        visit(node)

    visit(tree)
    return found


def all_modules(root: Path = REPO) -> list[Path]:
    return sorted(
        p for pkg in PACKAGES if (root / pkg).is_dir() for p in (root / pkg).rglob("*.py")
    )


def upward_imports(root: Path = REPO) -> list[str]:
    problems = []
    for path in all_modules(root):
        name = module_name(path, root)
        own = layer_of(name)
        assert own is not None, f"{name}: not in the layer map of tests/test_layers.py"
        reported: set[int] = set()
        for line, target in imports(path, root):
            other = layer_of(target)
            if other is not None and other > own and line not in reported:
                reported.add(line)
                problems.append(f"{path.relative_to(root)}:{line}: {name} (layer {own}) imports"
                                f" {target} (layer {other})")  # fmt: skip
    return problems


def test_no_upward_imports() -> None:
    problems = upward_imports()
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_the_nlp_package_itself_imports_nothing() -> None:
    # Importing the tokeniser (a text tool) runs nlp/__init__.py: it must stay empty.
    assert imports(REPO / "nlp" / "__init__.py") == []


@pytest.mark.parametrize(
    ("source", "module", "bad"),
    [
        ("from tingfeng.config import Config\n", "store/x.py", True),
        ("from store import Store\n", "tingfeng/x.py", False),
        ("from nlp.claims import x\n", "store/x.py", True),
        ("from nlp.tokenize import cut\n", "store/x.py", False),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from api import x\n",
         "store/x.py", False),
        ("def f():\n    from alerting import x\n", "nlp/x.py", True),
        ("from ..config import X\n", "store/sub/x.py", False),
    ],
)  # fmt: skip
def test_the_checker_catches_what_it_should(
    tmp_path: Path, source: str, module: str, bad: bool
) -> None:
    path = tmp_path / module
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, "utf-8")
    (tmp_path / module.split("/")[0] / "__init__.py").write_text("", "utf-8")
    assert bool(upward_imports(tmp_path)) == bad
