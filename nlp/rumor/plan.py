"""The fitted rumor pipeline folded into a few weight matrices, for fast batch scoring.

``Pipeline.decision_function`` builds the whole feature vector (the ColumnTransformer's
blocks stacked side by side, then one gated copy per propagation stage) only to take dot
products with it. Scoring instead multiplies each block by its slice of the weights and
adds them up:

* the stage copies fold into extra weight columns (``w · [x, g_s x_base] = w_shared · x +
  w_s · x_base`` for the row's stage ``s``);
* :class:`~nlp.rumor.pipeline.SvmBoostBlend`'s two text models become two more columns, so
  the trees' text margins come out of the same products;
* the one-hot blocks (verification type, stage) are row lookups in their weights, and the
  standardised numeric block is one small dense product;
* transformer weights are multiplied into the weights once.

Nothing is stacked, so a batch of lone source posts costs its tokenisation and n-gram
matching and little else. ``tests/nlp/test_rumor.py`` checks the margins against the
pipeline's own to 1e-10. A pipeline of any other shape is scored by the pipeline itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

_TEXT_BLOCKS = ("src_word", "src_char", "rep_word")


@dataclass(frozen=True)
class _Lookup:
    """A one-hot block as a lookup: category -> row of ``weights`` (the last row, zeros,
    for a category the encoder ignores)."""

    column: int
    index: dict[Any, int]
    weights: np.ndarray

    def rows(self, values: list[Any]) -> np.ndarray:
        missing = len(self.weights) - 1
        index = self.index
        return np.fromiter(
            (index.get(v, missing) for v in values), dtype=np.int64, count=len(values)
        )


@dataclass(frozen=True)
class ScoringPlan:
    """Weights over the ColumnTransformer's blocks, columns as in :meth:`build`."""

    texts: tuple[tuple[int, TfidfVectorizer, np.ndarray], ...]  # column, vectoriser, weights
    numeric_columns: list[int]
    mean: np.ndarray
    scale: np.ndarray
    numeric_weights: np.ndarray  # over the standardised values (transformer weight folded in)
    vtype: _Lookup
    stage: _Lookup
    n_stages: int
    intercept: float
    final: Any  # the pipeline's last step
    tree_offsets: np.ndarray | None  # SvmBoostBlend: offsets of its three input columns

    @classmethod
    def build(cls, pipeline: Pipeline) -> ScoringPlan | None:
        """The plan of a fitted Tingfeng pipeline, None if it is shaped otherwise."""
        steps = pipeline.named_steps
        if list(steps) != ["features", "stages", "svm"]:
            return None
        ct, stages, final = steps["features"], steps["stages"], steps["svm"]
        if not hasattr(final, "coef_") or getattr(ct, "remainder", None) != "drop":
            return None
        parts = {name: (t, cols) for name, t, cols in ct.transformers_ if name != "remainder"}
        if set(parts) != {*_TEXT_BLOCKS, "vtype", "num", "stage"} or not _usual(parts):
            return None
        width, n_stages = stages.n_features_in_, stages.n_stages
        n_base = width - n_stages
        coef = np.asarray(final.coef_, dtype=np.float64).ravel()
        if coef.shape != (width + n_stages * n_base,) or ct.output_indices_["stage"].stop != width:
            return None
        # Columns: shared weights, one per stage (over the un-gated base), then the blend's
        # tree inputs (source-text margin, repost-text margin, sum of the repost block).
        weights = np.zeros((width, 1 + n_stages))
        weights[:, 0] = coef[:width]
        weights[:n_base, 1:] = coef[width:].reshape(n_stages, n_base).T
        offsets = None
        if hasattr(final, "input_weights"):  # SvmBoostBlend
            tree_weights, offsets = final.input_weights(width)
            weights = np.hstack([weights, tree_weights])
        factor = ct.transformer_weights or {}

        def block(name: str) -> np.ndarray:
            where = ct.output_indices_[name]
            return weights[where] * float(factor.get(name, 1.0))

        texts = tuple(
            (int(parts[name][1]), parts[name][0], np.ascontiguousarray(block(name)))
            for name in _TEXT_BLOCKS
        )
        scaler = parts["num"][0].named_steps["scale"]
        n_num = len(parts["num"][1])
        return cls(
            texts=texts,
            numeric_columns=[int(c) for c in parts["num"][1]],
            mean=np.asarray(scaler.mean_ if scaler.with_mean else np.zeros(n_num), np.float64),
            scale=np.asarray(scaler.scale_ if scaler.with_std else np.ones(n_num), np.float64),
            numeric_weights=block("num"),
            vtype=_lookup(parts["vtype"], block("vtype")),
            stage=_lookup(parts["stage"], block("stage")),
            n_stages=n_stages,
            intercept=float(np.ravel(final.intercept_)[0]),
            final=final,
            tree_offsets=offsets,
        )

    def margins(self, matrix: np.ndarray) -> np.ndarray:
        """The pipeline's ``decision_function`` for rows of :func:`to_matrix`."""
        numeric = np.asarray(matrix[:, self.numeric_columns], dtype=np.float64)
        numeric -= self.mean
        numeric /= self.scale
        vtype = self.vtype.rows(matrix[:, self.vtype.column].tolist())
        stage = self.stage.rows(matrix[:, self.stage.column].tolist())
        if len(stage) and stage.max() >= self.n_stages:  # the pipeline's encoder would raise
            unknown = matrix[int(np.argmax(stage >= self.n_stages)), self.stage.column]
            raise ValueError(f"unknown propagation stage {unknown!r}")
        parts = numeric @ self.numeric_weights
        parts += self.vtype.weights[vtype]
        parts += self.stage.weights[stage]
        for column, vectorizer, weights in self.texts:
            parts += np.asarray(vectorizer.transform(matrix[:, column]) @ weights)
        linear = parts[:, 0] + parts[np.arange(len(matrix)), 1 + stage] + self.intercept
        if self.tree_offsets is None:
            return linear
        inputs = parts[:, 1 + self.n_stages :] + self.tree_offsets
        m_rep = np.where(inputs[:, 2] > 0, inputs[:, 1], np.nan)
        vcode = np.where(vtype < len(self.vtype.weights) - 1, vtype, np.nan)
        boosted = self.final.boosted_from_parts(inputs[:, 0], m_rep, numeric, vcode, stage)
        return self.final.svm_scale * linear + boosted


def _usual(parts: dict[str, tuple[Any, Any]]) -> bool:
    """The blocks are the ones :func:`nlp.rumor.pipeline.build_pipeline` makes."""
    for name in _TEXT_BLOCKS:
        vectorizer, column = parts[name]
        if not isinstance(vectorizer, TfidfVectorizer) or not isinstance(column, int):
            return False
    for name in ("vtype", "stage"):
        encoder, columns = parts[name]
        if not isinstance(encoder, OneHotEncoder) or len(columns) != 1:
            return False
        if encoder.drop_idx_ is not None or encoder.handle_unknown not in ("ignore", "error"):
            return False
    num = parts["num"][0]
    return (
        isinstance(num, Pipeline)
        and list(num.named_steps) == ["float", "scale"]
        and isinstance(num.named_steps["float"], FunctionTransformer)
        and isinstance(num.named_steps["scale"], StandardScaler)
    )


def _lookup(part: tuple[OneHotEncoder, list[int]], weights: np.ndarray) -> _Lookup:
    encoder, columns = part
    categories = encoder.categories_[0].tolist()
    padded = np.vstack([weights, np.zeros((1, weights.shape[1]))])
    return _Lookup(int(columns[0]), {c: i for i, c in enumerate(categories)}, padded)
