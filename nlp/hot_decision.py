"""The hot decision: whether an incident is hot at one moment, and the reasons why.

One rule with documented thresholds (``docs/hot-topics.md``, "Hot decision"), combining the
locality-relative burst (:class:`nlp.heat.SpikeDetector`), the early-virality model
(:mod:`nlp.virality`) and the incident's size. An incident is hot when any of these holds:

1. **Burst told by several people**: its burst flag is up and at least
   ``burst_min_roots`` of its source posts were written within the burst's current window
   (independent posts about the same happening, e.g. a forum thread and two Weibo posts
   within the hour). The locality itself is talking: no virality needed. Source posts
   written earlier do not count: on CED, an event that joins a days-old cascade of a
   similar text is not a second voice of a burst (``bench/eval_hot.py``).
2. **Burst of one post's reposts, confirmed**: its burst flag is up, it has fewer source
   posts, its tail probability is at most ``burst_single_p_value`` (when set) and its
   virality is at least ``burst_virality_threshold`` (or still unknown, in its first
   minutes, when ``burst_unknown_counts``). A single post's repost cascade is what the
   virality model was trained on: it decides whether the cascade is going to be large.
3. **Virality alone**: the model's probability is at least ``virality_threshold``.
4. **Size**: the incident has at least ``size_posts`` posts (off when empty).

The CED thresholds were chosen on folds 1-4 and read on the held-out fold 0
(``bench/eval_hot.py``); the reasons for the defaults are in docs/hot-topics.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlp.hot_config import HotConfigSection


@dataclass(frozen=True)
class HotSignals:
    """What the decision reads of one incident at one moment."""

    #: the burst flag is up (``SpikeResult.flagged``)
    burst: bool
    #: the burst's own explanation (``SpikeResult.reason``)
    burst_reason: str
    #: virality probability, ``None`` while the incident is too young to say
    virality: float | None
    #: source posts (roots) of the incident so far
    roots: int
    #: posts of the incident so far
    posts: int
    #: the burst's Poisson tail probability now (1.0 when not computed)
    burst_p_value: float = 1.0
    #: source posts written within the burst's current window (None: count ``roots``)
    roots_in_window: int | None = None

    @property
    def window_roots(self) -> int:
        """Source posts that count as voices of the current burst (rule 1)."""
        return self.roots if self.roots_in_window is None else self.roots_in_window


def burst_counts(signals: HotSignals, config: HotConfigSection) -> bool:
    """Whether a raised burst flag makes the incident hot (rules 1 and 2)."""
    if not signals.burst:
        return False
    if signals.window_roots >= config.burst_min_roots:
        return True
    single_p = config.burst_single_p_value
    if single_p is not None and signals.burst_p_value > single_p:
        return False
    floor = config.burst_virality_threshold
    if floor is None:
        return True
    if signals.virality is None:
        return config.burst_unknown_counts
    return signals.virality >= floor


def hot_reasons(
    signals: HotSignals, config: HotConfigSection, virality_threshold: float
) -> list[str]:
    """The reasons that make the incident hot now (empty: not hot)."""
    reasons: list[str] = []
    if burst_counts(signals, config):
        if signals.window_roots >= config.burst_min_roots:
            why = f"{signals.window_roots} 条源帖"
        elif config.burst_virality_threshold is None:
            why = "单一源帖"
        elif signals.virality is None:
            why = "单一源帖，传播预测尚未得出"
        else:
            floor = config.burst_virality_threshold
            why = f"单一源帖，传播预测 {signals.virality:.2f} ≥ {floor:.2f}"
        reasons.append(f"突发：{signals.burst_reason}（{why}）")
    if signals.virality is not None and signals.virality >= virality_threshold:
        reasons.append(f"传播预测：{signals.virality:.2f} ≥ {virality_threshold:.2f}")
    size = config.size_posts
    if size is not None and signals.posts >= size:
        reasons.append(f"规模：{signals.posts} 帖 ≥ {size} 帖")
    return reasons
