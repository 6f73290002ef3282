"""Relative scoring speed of two rumor model files on the CED source posts, with and without
their author profile: interleaved rounds in one process, best of each. On a shared machine
absolute figures wander with the load; the ratio between the two models is what this gives.

    .venv/bin/python bench/compare_rumor_speed.py OLD.skops NEW.skops [ROUNDS]

(e.g. ``git show f7fd4be:nlp/models/rumor-ced.skops > /tmp/old.skops`` for model 1.3.0).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path

from nlp.rumor.features import RumorInput
from nlp.rumor.model import load_model

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "ced"


def main() -> None:
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    files = sorted((DATA / "original-microblog").glob("*.json"))
    records = [json.loads(f.read_text("utf-8")) for f in files]
    inputs = [RumorInput.from_dict({k: v for k, v in r.items() if k != "reposts"}) for r in records]
    bare = [RumorInput(i.source_id, i.text, i.created_at, None) for i in inputs]
    models = {"old": load_model(old), "new": load_model(new)}
    for m in models.values():
        m.score(inputs)  # n-gram tables and token memory warm
    gc.collect()
    gc.freeze()
    best = {(n, k): float("inf") for n in models for k in ("profile", "no profile")}
    for _ in range(rounds):
        for n, m in models.items():
            for k, batch in (("profile", inputs), ("no profile", bare)):
                started = time.perf_counter()
                m.score(batch)
                best[n, k] = min(best[n, k], time.perf_counter() - started)
    print(f"load average {os.getloadavg()[0]:.1f}, {len(inputs)} lone source posts")
    for (n, k), seconds in best.items():
        print(f"{n} ({models[n].version}) {k:<10} {len(inputs) / seconds:>9,.0f} posts/s")


if __name__ == "__main__":
    main()
