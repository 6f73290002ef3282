"""Spiders by kind name: config says ``kind: site`` and this maps it to a class.

The spiders are a :class:`models.registry.Registry` (group ``tingfeng.spiders``): the
built-in ones register with :func:`register` when their module is imported, an outside
package through an entry point (``mykind = mypkg.spiders:MySpider``). Both are looked up
the same way, and ``sources[].kind`` is validated against these names at config load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from models.registry import Registry, UnknownComponent

if TYPE_CHECKING:
    from crawler.spiders.base import SourceSpider

S = TypeVar("S", bound="type[SourceSpider]")

SPIDERS: Registry[type[SourceSpider]] = Registry(
    "spiders",
    builtin=(
        "crawler.spiders.feed",
        "crawler.spiders.site",
        "crawler.spiders.weibo",
        "crawler.spiders.jsonapi",
    ),
)
#: Not a spider: posts of this kind come from ``tingfeng import`` (a valid ``kind``).
IMPORT_KIND = "import"


class UnknownSpiderKind(KeyError):
    pass


def register(kind: str):
    """Class decorator: make ``cls`` the spider for sources of ``kind``."""

    def decorate(cls: S) -> S:
        cls.kind = kind
        SPIDERS.add(kind, cls)
        return cls

    return decorate


def spider_for(kind: str) -> type[SourceSpider]:
    try:
        cls = SPIDERS.get(kind)
    except UnknownComponent:
        known = ", ".join(SPIDERS.names())
        raise UnknownSpiderKind(f"no spider for kind {kind!r} (known: {known})") from None
    if getattr(cls, "kind", None) != kind:  # registered through an entry point
        cls.kind = kind
    return cls


def kinds() -> list[str]:
    return SPIDERS.names()


def source_kinds() -> list[str]:
    """Every valid ``sources[].kind``: the spiders' kinds and ``import``."""
    return [*kinds(), IMPORT_KIND]
