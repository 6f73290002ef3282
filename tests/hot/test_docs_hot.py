"""Every ``hot:`` option is documented in docs/hot-topics.md, and nothing undocumented."""

from __future__ import annotations

import re
from pathlib import Path

from tingfeng.config import HotBurstConfig, HotClusterConfig, HotConfigSection

DOC = Path(__file__).resolve().parents[2] / "docs" / "hot-topics.md"


def _documented() -> dict[str, set[str]]:
    text = DOC.read_text("utf-8")
    block = text.split("```yaml\nhot:\n", 1)[1].split("```", 1)[0]
    sections: dict[str, set[str]] = {"hot": set(), "cluster": set(), "burst": set()}
    current = "hot"
    for line in block.splitlines():
        match = re.match(r"^(\s*)([a-z_0-9]+):", line)
        if not match:
            continue
        indent, key = len(match.group(1)), match.group(2)
        if indent == 2:
            current = "hot"
            sections["hot"].add(key)
            if key in ("cluster", "burst"):
                current = key
        else:
            sections[current].add(key)
    return sections


def test_every_hot_option_is_documented_and_vice_versa() -> None:
    documented = _documented()
    assert documented["hot"] == set(HotConfigSection.model_fields)
    assert documented["cluster"] == set(HotClusterConfig.model_fields)
    assert documented["burst"] == set(HotBurstConfig.model_fields)


def test_documented_defaults_match_the_code() -> None:
    text = DOC.read_text("utf-8")
    for section, cls in (("cluster", HotClusterConfig), ("burst", HotBurstConfig)):
        for name, field in cls.model_fields.items():
            match = re.search(rf"^\s+{name}: ([0-9.]+)", text, re.MULTILINE)
            assert match, f"{section}.{name}"
            assert float(match.group(1)) == float(field.default), f"{section}.{name}"
