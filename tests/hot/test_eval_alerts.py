"""bench/eval_hot.py: the flags actually raised (one alert per incident turning hot)
against the per-event count, on a hand-made replay trace."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

_spec = importlib.util.spec_from_file_location(
    "eval_hot", Path(__file__).resolve().parents[2] / "bench" / "eval_hot.py"
)
assert _spec is not None and _spec.loader is not None
eval_hot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_hot)

T0 = 1_600_000_000.0
CUT = 500.0


def _source(offset: float) -> SimpleNamespace:
    return SimpleNamespace(created_at=datetime.fromtimestamp(T0 + offset, UTC))


def _case() -> tuple[dict, dict]:
    # Incident A: a1 (ends large) is flagged at +50 s by a one-post burst confirmed by
    # virality; a2 and a3 (small) and c (large) join it afterwards. Incident B: b1 (small)
    # alone, flagged at +30 s: a false alert.
    starts = {"a1": 0.0, "a2": 100.0, "a3": 120.0, "c": 200.0, "b1": 0.0}
    sizes = {"a1": 600, "a2": 50, "a3": 40, "c": 700, "b1": 80}
    fold = {
        "sources": {s: _source(t) for s, t in starts.items()},
        "reposts": {s: [T0 + starts[s] + 60.0 + i for i in range(n)] for s, n in sizes.items()},
    }
    trace = {
        "burst": {"A": [(T0 + 50, 1e-20, 0.5, 1, 1)], "B": [(T0 + 30, 1e-20, 0.9, 1, 1)]},
        "vir": {},
        "sizes": {},
        "incident_of": {"a1": "A", "a2": "A", "a3": "A", "c": "A", "b1": "B"},
    }
    return fold, trace


def test_an_event_joining_a_hot_incident_raises_no_new_alert() -> None:
    fold, trace = _case()
    rule = eval_hot.DEFAULT_RULE
    (per_event,) = eval_hot.rule_figures(fold, trace, CUT, [rule])
    (alerts,) = eval_hot.alert_figures(fold, trace, CUT, [rule])
    # Per event: all five count as flagged (a2, a3 and c "at their join"), two are large.
    assert (per_event["flagged"], per_event["tp"], per_event["precision"]) == (5, 2, 0.4)
    assert per_event["share_before_20pct"] == 1.0
    # Per alert: two alerts (A, B); A is about a1, which ends large.
    assert (alerts["alerts"], alerts["true_alerts"], alerts["precision"]) == (2, 1, 0.5)
    # c joined after A's alert: counted apart, never as flagged early.
    assert alerts["joined_after_alert"] == 1
    assert alerts["share_before_20pct"] == 0.5 and alerts["recall"] == 0.5
    assert alerts["median_minutes"] == round(50 / 60, 1)


def test_an_incident_never_hot_raises_no_alert() -> None:
    fold, trace = _case()
    trace["burst"]["B"] = [(T0 + 30, 1e-20, 0.1, 1, 1)]  # virality below the gate
    (alerts,) = eval_hot.alert_figures(fold, trace, CUT, [eval_hot.DEFAULT_RULE])
    assert (alerts["alerts"], alerts["true_alerts"], alerts["precision"]) == (1, 1, 1.0)
