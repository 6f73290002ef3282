"""Named extension points: spiders, store backends, channels, bulletin templates.

A built-in component registers exactly as an outside package would: either with the
:meth:`Registry.register` decorator in its own module, or through the entry-point group
``tingfeng.<group>`` of an installed distribution (``mykind = mypkg.module:MyClass``).
Configuration then refers to components by name only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownComponent(KeyError):
    """A configured name that no built-in or installed component registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


#: What each registry holds, as error messages name it.
GROUP_LABELS = {
    "spiders": "爬虫",
    "channels": "预警渠道",
    "stores": "存储类型",
    "bulletin_templates": "通报模板",
}


class Registry(Generic[T]):
    """Components of one kind by name, loaded lazily on first lookup.

    ``builtin`` lists the modules whose import registers the built-in components; entry
    points of group ``tingfeng.<group>`` are loaded after them, so an installed plugin can
    add names (a plugin re-using a built-in name replaces it, which is logged by callers).
    """

    def __init__(self, group: str, builtin: Iterable[str] = ()) -> None:
        self.group = group
        self.entry_point_group = f"tingfeng.{group}"
        self._builtin = tuple(builtin)
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name``."""

        def decorate(obj: T) -> T:
            self._items[name] = obj
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        self._items[name] = obj

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtin:
            import_module(module)
        for ep in entry_points(group=self.entry_point_group):
            self._items[ep.name] = ep.load()

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            known = "、".join(sorted(self._items)) or "无"
            what = GROUP_LABELS.get(self.group, self.group)
            raise UnknownComponent(f"没有名为 {name!r} 的{what}（可用的有：{known}）") from None

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)
