"""Spiders by kind name: config says ``kind: site`` and this maps it to a class.

Built-in spiders register exactly as an outside package would: with :func:`register`, or
through the ``tingfeng.spiders`` entry-point group (``mykind = mypkg.spiders:MySpider``).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from crawler.spiders.base import SourceSpider

S = TypeVar("S", bound="type[SourceSpider]")

_REGISTRY: dict[str, type[SourceSpider]] = {}
_BUILTIN = (
    "crawler.spiders.feed",
    "crawler.spiders.site",
    "crawler.spiders.weibo",
    "crawler.spiders.jsonapi",
)
_loaded = False


class UnknownSpiderKind(KeyError):
    pass


def register(kind: str):
    """Class decorator: make ``cls`` the spider for sources of ``kind``."""

    def decorate(cls: S) -> S:
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return decorate


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in _BUILTIN:
        import_module(module)
    for ep in entry_points(group="tingfeng.spiders"):
        register(ep.name)(ep.load())
    _loaded = True


def spider_for(kind: str) -> type[SourceSpider]:
    _load()
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownSpiderKind(f"no spider for kind {kind!r} (known: {known})") from None


def kinds() -> list[str]:
    _load()
    return sorted(_REGISTRY)
