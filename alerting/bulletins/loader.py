"""Bulletin templates: Jinja2 files registered by name, checked when they are loaded.

A template is a ``NAME.jinja`` file with the blocks ``kind`` (one of ``situation``,
``rebuttal``, ``response``, ``progress`` or the Chinese name of the kind), ``title`` and
``body`` (paragraphs separated by blank lines). It sees the names of
:class:`~alerting.bulletins.context.BulletinContext` and the function ``gap(label)``, which
writes a visible ``[待核实：label]``.

The four built-ins are registered in :data:`TEMPLATES` (group ``bulletin_templates``) as
any package would through the ``tingfeng.bulletin_templates`` entry-point group (an entry
point names a :class:`TemplateSpec` or a path to a ``.jinja`` file); an office adds its own
with ``bulletins.templates`` (files or folders). Loading renders each template against a
full and an empty sample context with ``StrictUndefined`` and walks its syntax tree for
unknown names, so a template naming a field that does not exist fails at start-up with its
file and line.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes
from pydantic import BaseModel

from alerting.bulletins.context import BulletinContext
from models import BulletinKind
from models.registry import Registry

PLACEHOLDER = "[待核实：{label}]"
KINDS = {
    "situation": BulletinKind.SITUATION,
    "rebuttal": BulletinKind.REBUTTAL,
    "response": BulletinKind.RESPONSE,
    "progress": BulletinKind.PROGRESS,
}
BUILTIN = ("situation", "rebuttal", "response", "progress")
REQUIRED_BLOCKS = ("kind", "title", "body")


class TemplateError(Exception):
    """A template that cannot be used, naming its file and line."""


def gap(label: str) -> str:
    """A visible gap for a fact the office must confirm before approval."""
    return PLACEHOLDER.format(label=label)


@dataclass(frozen=True)
class TemplateSpec:
    """A template by name: its file (or source text) and where it came from."""

    name: str
    path: Path | None = None
    source: str | None = None
    origin: str = "builtin"

    def text(self) -> str:
        if self.source is not None:
            return self.source
        assert self.path is not None
        try:
            return self.path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{self.path}: 无法读取模板（{exc}）") from None

    @property
    def where(self) -> str:
        return str(self.path) if self.path else f"<{self.origin}:{self.name}>"


TEMPLATES: Registry[TemplateSpec] = Registry("bulletin_templates")


def _builtin_path(name: str) -> Path:
    return Path(str(resources.files("alerting.bulletins.templates").joinpath(f"{name}.jinja")))


for _name in BUILTIN:
    TEMPLATES.add(_name, TemplateSpec(_name, _builtin_path(_name)))
NOTES = TemplateSpec("_notes", _builtin_path("_notes"))


@dataclass
class LoadedTemplate:
    """A checked template, ready to render."""

    spec: TemplateSpec
    kind: BulletinKind
    template: jinja2.Template = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    def render_block(self, block: str, context: dict[str, Any]) -> str:
        render = self.template.blocks[block]
        ctx = self.template.new_context(context)
        return "".join(render(ctx))

    def render(self, context: BulletinContext) -> tuple[str, str]:
        """``(title, body)`` for ``context``; whitespace tidied, paragraphs kept."""
        data = context.model_dump()
        title = " ".join(self.render_block("title", data).split())
        return title, tidy(self.render_block("body", data))


def tidy(text: str) -> str:
    """Strip every line, keep one blank line between paragraphs."""
    lines = [line.strip() for line in text.strip().splitlines()]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return out.strip()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text and docx, never HTML
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["gap"] = gap
    return env


def _line_of(exc: BaseException, where: str) -> int | None:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == where:
            return frame.lineno
    return getattr(exc, "lineno", None)


_KNOWN = frozenset(BulletinContext.model_fields) | {"gap", "loop", "range", "self"}


def _unknown_names(env: jinja2.Environment, source: str, where: str) -> None:
    """Top-level names the template reads that the context does not have, with the line
    of their first use (rendering alone misses names in branches the samples skip)."""
    tree = env.parse(source, filename=where)
    unknown = meta.find_undeclared_variables(tree) - _KNOWN
    if not unknown:
        _unknown_attributes(tree, where)
        return
    first = {}
    for node in tree.find_all(nodes.Name):
        if node.name in unknown and node.ctx == "load":
            first.setdefault(node.name, node.lineno)
    name = min(unknown, key=lambda n: first.get(n, 0))
    known = ", ".join(sorted(BulletinContext.model_fields))
    raise TemplateError(
        f"{where}:{first.get(name, '?')}: 未知字段 {name!r}（可用的有：{known}, gap()）"
    )


def _model_of(node: nodes.Node, names: dict[str, type[BaseModel]]) -> type[BaseModel] | None:
    """The context model a ``name``, ``name[i]`` or ``name.attr`` expression evaluates to."""
    if isinstance(node, nodes.Name):
        return names.get(node.name)
    if isinstance(node, nodes.Getitem):
        return _element(_model_of(node.node, names), None)
    if isinstance(node, nodes.Getattr):
        return _element(_model_of(node.node, names), node.attr)
    return None


def _element(model: type[BaseModel] | None, attr: str | None) -> type[BaseModel] | None:
    if model is None:
        return None
    if attr is None:  # indexing a list field's element model is tracked on the list
        return getattr(model, "__element__", None)
    info = model.model_fields.get(attr)
    if info is None:
        return None
    ann = info.annotation
    args = getattr(ann, "__args__", ())
    if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return type(f"ListOf{args[0].__name__}", (), {"__element__": args[0]})  # type: ignore[return-value]
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _unknown_attributes(tree: nodes.Template, where: str) -> None:
    """``incident.titel`` or ``c.qoute`` (``c`` a loop over ``claims``): fields the context
    models do not have, wherever they are used."""
    names: dict[str, Any] = {"__root__": BulletinContext}
    for name in BulletinContext.model_fields:
        names[name] = _element(BulletinContext, name)
    for loop in tree.find_all(nodes.For):
        element = _model_of(loop.iter, names)
        inner = getattr(element, "__element__", None)
        if isinstance(loop.target, nodes.Name) and inner is not None:
            names[loop.target.name] = inner
    for node in tree.find_all(nodes.Getattr):
        model = _model_of(node.node, names)
        if model is None or hasattr(model, "__element__"):
            continue
        if node.attr not in model.model_fields:
            known = ", ".join(model.model_fields)
            raise TemplateError(
                f"{where}:{node.lineno}: {model.__name__} 没有字段 {node.attr!r}"
                f"（可用的有：{known}）"
            )


def load_template(spec: TemplateSpec) -> LoadedTemplate:
    """Compile and check one template; raises :class:`TemplateError` with file and line."""
    env = _environment()
    source = spec.text()
    where = spec.where
    try:
        code = env.compile(source, name=spec.name, filename=where)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{where}:{exc.lineno}: 语法错误：{exc.message}") from None
    template = env.template_class.from_code(env, code, env.globals, None)
    missing = [b for b in REQUIRED_BLOCKS if b not in template.blocks]
    if missing:
        raise TemplateError(f"{where}: 缺少 block {', '.join(missing)}（须有 kind、title、body）")
    _unknown_names(env, source, where)
    loaded = LoadedTemplate(spec, BulletinKind.SITUATION, template)
    for full in (True, False):
        data = BulletinContext.sample(full=full).model_dump()
        for block in REQUIRED_BLOCKS:
            try:
                try:
                    loaded.render_block(block, data)
                except Exception:
                    env.handle_exception(source)  # re-raises with template file and line
            except jinja2.UndefinedError as exc:
                line = _line_of(exc, where)
                raise TemplateError(
                    f"{where}:{line or '?'}: {exc.message} (block {block})"
                ) from None
            except Exception as exc:  # a filter or test failing on sample data
                line = _line_of(exc, where)
                raise TemplateError(f"{where}:{line or '?'}: {type(exc).__name__}: {exc}") from None
    kind_text = loaded.render_block("kind", BulletinContext.sample().model_dump()).strip()
    kind = KINDS.get(kind_text)
    if kind is None:
        try:
            kind = BulletinKind(kind_text)
        except ValueError:
            known = ", ".join([*KINDS, *(k.value for k in BulletinKind)])
            raise TemplateError(
                f"{where}: block kind: {kind_text!r} 不是通报类型（可选：{known}）"
            ) from None
    loaded.kind = kind
    return loaded


def office_specs(paths: Iterable[Path]) -> list[TemplateSpec]:
    """Template specs from ``bulletins.templates``: files, or folders of ``*.jinja``."""
    specs = []
    for path in paths:
        if path.is_dir():
            files = sorted(path.glob("*.jinja"))
            if not files:
                raise TemplateError(f"bulletins.templates: {path}: 文件夹中没有 *.jinja 文件")
        elif path.is_file():
            files = [path]
        else:
            raise TemplateError(f"bulletins.templates: {path}: 文件或文件夹不存在")
        for file in files:
            if file.name.startswith("_"):
                continue
            specs.append(TemplateSpec(file.stem, file, origin="office"))
    return specs


class TemplateSet:
    """Every usable template by name (built-in, plugins, the office's), all checked."""

    def __init__(self, office_paths: Iterable[Path] = ()) -> None:
        specs: dict[str, TemplateSpec] = {}
        for name in TEMPLATES.names():
            obj = TEMPLATES.get(name)
            if isinstance(obj, str | Path):
                obj = TemplateSpec(name, Path(obj), origin="plugin")
            if not isinstance(obj, TemplateSpec):
                raise TemplateError(
                    f"bulletin_templates: {name!r} is a {type(obj).__name__}, "
                    "not a TemplateSpec or a path"
                )
            specs[name] = obj
        for spec in office_specs(office_paths):
            specs[spec.name] = spec
        self.templates = {name: load_template(spec) for name, spec in specs.items()}
        self.notes = load_template(_notes_spec())

    def get(self, name: str) -> LoadedTemplate:
        try:
            return self.templates[name]
        except KeyError:
            known = ", ".join(sorted(self.templates))
            raise TemplateError(f"没有名为 {name!r} 的通报模板（可用的有：{known}）") from None

    def names(self) -> list[str]:
        return sorted(self.templates)

    def for_kind(self, kind: BulletinKind) -> LoadedTemplate:
        """The template for a kind: the built-in name if present, else the first office one."""
        for name, builtin_kind in KINDS.items():
            if builtin_kind == kind and name in self.templates:
                return self.templates[name]
        for template in self.templates.values():
            if template.kind == kind:
                return template
        raise TemplateError(f"没有 {kind.value} 类型的通报模板")

    def render_notes(self, context: BulletinContext) -> str:
        return tidy(self.notes.render_block("body", context.model_dump()))


def _notes_spec() -> TemplateSpec:
    # The notes file is plain text; wrap it in the blocks every template has.
    body = NOTES.text()
    source = (
        "{% block kind %}situation{% endblock %}{% block title %}起草参考{% endblock %}"
        "{% block body %}" + body + "{% endblock %}"
    )
    return TemplateSpec("_notes", None, source=source, origin="builtin")


def resolve_kind(text: str) -> BulletinKind | None:
    if text in KINDS:
        return KINDS[text]
    try:
        return BulletinKind(text)
    except ValueError:
        return None


__all__ = [
    "TEMPLATES",
    "LoadedTemplate",
    "TemplateError",
    "TemplateSet",
    "TemplateSpec",
    "gap",
    "load_template",
    "resolve_kind",
]
