"""Region tagging from the configured gazetteer (district → towns and landmarks)."""

from __future__ import annotations

from collections.abc import Mapping

from nlp.tokenize import add_words, cut, normalise


class RegionTagger:
    """Tag text with the districts whose name, towns or landmarks it mentions.

    Names are added to the shared tokeniser so "滨江路" or "青川大桥" are single tokens,
    and matching is done on tokens, not substrings: "东城" inside "广东城市" is no match.
    A name listed under several districts tags all of them.
    """

    def __init__(self, gazetteer: Mapping[str, list[str]]) -> None:
        self._by_name: dict[str, set[str]] = {}
        for district, names in gazetteer.items():
            for name in [district, *names]:
                key = normalise(name.strip())
                if key:
                    self._by_name.setdefault(key, set()).add(district)
        add_words(self._by_name)
        self._order = list(gazetteer)

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def tag(self, *texts: str | None) -> list[str]:
        return self.tag_tokens(*(cut(text) for text in texts))

    def tag_tokens(self, *token_lists: list[str]) -> list[str]:
        """Like :meth:`tag`, for text already cut with :func:`nlp.tokenize.cut`."""
        found: set[str] = set()
        for tokens in token_lists:
            for token in tokens:
                districts = self._by_name.get(token)
                if districts:
                    found |= districts
        return [d for d in self._order if d in found]


_taggers: dict[str, RegionTagger] = {}


def tagger_for(gazetteer: Mapping[str, list[str]] | None) -> RegionTagger | None:
    """One tagger per gazetteer per process (import workers build theirs once); None when
    no gazetteer is configured."""
    if not gazetteer:
        return None
    key = repr(sorted((k, list(v)) for k, v in gazetteer.items()))
    if key not in _taggers:
        _taggers[key] = RegionTagger(gazetteer)
    return _taggers[key]
