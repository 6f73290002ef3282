"""Rumor classifier speed: scoring throughput and training time on the CED copy.

    .venv/bin/python bench/bench_rumor.py [--data DIR] [--model FILE] [--no-train]

Targets (issue 4): scoring >= 10,000 posts/s including tokenisation; training on the full
copy <= 5 minutes. Scoring is measured end to end from :class:`RumorInput` (feature
extraction, tokenisation, vectorising, SVM, trees, calibration), single process: first
the one pass over the source posts a fresh process makes, then the best of ``--rounds``. Timings are
wall-clock and noisy on a shared machine; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from datetime import timedelta
from pathlib import Path

from ingest.ced import iter_events
from nlp.rumor.features import RumorInput
from nlp.rumor.local import load_local
from nlp.rumor.model import load_model
from nlp.rumor.training import load_dataset, train

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "ced"
LOCAL = Path(__file__).resolve().parent.parent / "nlp" / "data" / "local"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    model = load_model(args.model)
    events = list(iter_events(args.data))
    sources = [RumorInput.from_posts(e.source) for e in events]
    full = [RumorInput.from_posts(e.source, e.reposts) for e in events]
    early = [RumorInput.from_posts(e.source, e.reposts_until(timedelta(hours=1))) for e in events]
    # The inputs above are over a million Python objects that a scoring service would not
    # hold; keep the cyclic GC from rescanning them on every collection while timing.
    gc.collect()
    gc.freeze()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    def rate(inputs: list[RumorInput], label: str) -> None:
        best = float("inf")
        for _ in range(args.rounds):
            started = time.perf_counter()
            model.score(inputs)
            best = min(best, time.perf_counter() - started)
        posts = sum(1 + len(i.reposts) for i in inputs)
        print(
            f"{label:<34} {len(inputs) / best:>9,.0f} events/s  {posts / best:>10,.0f} posts/s"
            f"  ({len(inputs)} events, {posts} posts, {best:.2f} s)"
        )

    # The first call builds the vectorisers' n-gram tables (once per process); the first
    # pass over the sources then meets every token for the first time (cold token memory).
    started = time.perf_counter()
    model.score(sources[:1])
    tables = time.perf_counter() - started
    started = time.perf_counter()
    model.score(sources)
    cold = time.perf_counter() - started
    print(
        f"{'source post only, first pass':<34} {len(sources) / cold:>9,.0f} events/s  "
        f"{len(sources) / cold:>10,.0f} posts/s  (after {tables:.2f} s building tables)"
    )
    # Repeat the source posts so the measurement is not dominated by start-up effects.
    rate(sources * 4, "source post only (0h)")
    # The same posts as a forum, news or imported post arrives: no author profile.
    bare = [RumorInput(i.source_id, i.text, i.created_at, None) for i in sources]
    rate(bare * 4, "source post only, no profile")
    local = [p.input for p in load_local(*sorted(LOCAL.glob("*.tsv"))).posts]
    rate(local * 25, "local posts (nlp/data/local)")
    rate(early, "source + reposts of the first hour")
    rate(full, "source + all reposts")

    if not args.no_train:
        started = time.perf_counter()
        data = load_dataset(args.data)
        loaded = time.perf_counter() - started
        train(data)
        total = time.perf_counter() - started
        print(
            f"training: read {loaded:.0f} s + fit {total - loaded:.0f} s = {total:.0f} s "
            f"on {len(data)} events (load average {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
