"""The trained rumor model: scoring, calibration and safe (de)serialisation.

A model file is a skops archive holding a plain dict::

    {"format": "tingfeng-rumor-model", "format_version": 1, "version": "...",
     "pipeline": <sklearn Pipeline>, "calibration": [slope, intercept], "meta": {...}}

Loading first lists the types the archive would instantiate and refuses any outside
:data:`TRUSTED_TYPES`, so a model file stays data and can never run foreign code; then it
checks the format marker, so a skops file of some other project is refused with a reason.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from nlp.rumor.features import (
    NUMERIC_FEATURES,
    TOO_SHORT,
    RumorInput,
    prepare,
    to_matrix,
)
from nlp.rumor.plan import ScoringPlan

FORMAT = "tingfeng-rumor-model"
FORMAT_VERSION = 1
#: The name under which :meth:`RumorModel.contributions` reports what the trees add
#: beyond the effects of their single inputs.
BOOST_FEATURE = "boost:trees"
#: Rows vectorised at once when scoring.
SCORE_CHUNK = 2000
#: File name of the model shipped in ``nlp/models/``.
SHIPPED_MODEL = "rumor-ced.skops"

#: Everything a Tingfeng rumor model may contain besides builtins and numpy arrays. Only
#: these are instantiated on load; our own two functions are plain feature helpers, our
#: two classes the estimators of nlp.rumor.pipeline (SvmBoostBlend since 1.3.0). Plain
#: ``TfidfVectorizer`` stays trusted so models trained before 1.2.0 still load.
TRUSTED_TYPES: list[str] = [
    "builtins.slice",
    "nlp.rumor.features.numeric_block",
    "nlp.rumor.pipeline.StageInteractions",
    "nlp.rumor.pipeline.SvmBoostBlend",
    "nlp.rumor.vectorize.FastTfidfVectorizer",
    "nlp.tokenize.cut",
    "numpy.dtype",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.random._generator.Generator",
    "numpy.uint64",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.utils._bunch.Bunch",
]


class ModelError(Exception):
    """A model file that cannot be used, with the reason."""


@dataclass
class RumorScore:
    """One scored input: calibrated probability of being a rumor, and what was missing.

    ``probability`` is None when the input was not scored, with the reason in ``reason``
    (:data:`nlp.rumor.features.TOO_SHORT`: an empty or near-empty source text)."""

    probability: float | None
    missing: list[str] = field(default_factory=list)
    reposts_seen: int = 0
    reason: str | None = None


def shipped_model_path() -> Path:
    return Path(str(resources.files("nlp.models").joinpath(SHIPPED_MODEL)))


class RumorModel:
    """A fitted pipeline plus the sigmoid that turns its margins into probabilities."""

    def __init__(
        self,
        pipeline: Pipeline,
        calibration: Sequence[float],
        *,
        version: str = "dev",
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.calibration = (float(calibration[0]), float(calibration[1]))
        self.version = version
        self.meta = dict(meta or {})

    # -- scoring -------------------------------------------------------------------------
    def margins(self, matrix: np.ndarray) -> np.ndarray:
        """The model's decision for rows made by :func:`nlp.rumor.features.to_matrix`."""
        plan = self._plan
        if plan is None:
            return self.pipeline.decision_function(matrix)
        return plan.margins(matrix)

    @cached_property
    def _plan(self) -> ScoringPlan | None:
        """The fitted pipeline folded for scoring, or None when it has another shape."""
        return ScoringPlan.build(self.pipeline)

    def calibrate(self, margins: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration
        return 1.0 / (1.0 + np.exp(-(slope * np.asarray(margins) + intercept)))

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated P(rumor) for rows made by :func:`nlp.rumor.features.to_matrix`."""
        if len(matrix) == 0:
            return np.zeros(0)
        # In chunks, so that memory stays bounded on large batches (with the scoring plan,
        # chunks of 500 to 4,000 rows score lone posts within 5 % of each other).
        return np.concatenate(
            [
                self.calibrate(self.margins(matrix[start : start + SCORE_CHUNK]))
                for start in range(0, len(matrix), SCORE_CHUNK)
            ]
        )

    def score(
        self, inputs: Iterable[RumorInput], horizon: timedelta | None = None
    ) -> list[RumorScore]:
        """Score inputs on what they have; a missing field lowers no other input's score.
        A source text too short to say anything (:func:`nlp.rumor.features.too_short`),
        with no repost or comment text to judge instead, is not scored: probability None,
        reason 文本过短."""
        prepared = [prepare(inp) for inp in inputs]
        rows, out, scored = [], [], []
        for p in prepared:
            if p.unscorable(horizon):
                out.append(RumorScore(None, list(p.missing), p.count_until(horizon), TOO_SHORT))
                continue
            row, missing = p.row(horizon)
            rows.append(row)
            score = RumorScore(0.0, list(missing), p.count_until(horizon))
            out.append(score)
            scored.append(score)
        if rows:
            for score, prob in zip(scored, self.predict_proba(to_matrix(rows)), strict=True):
                score.probability = float(prob)
        return out

    # -- introspection (explanations) ----------------------------------------------------
    @cached_property
    def feature_names(self) -> list[str]:
        """``block:name`` for every column of the transformed vector."""
        ct = self.pipeline.named_steps["features"]
        names: list[str] = [""] * sum(
            s.stop - s.start for s in ct.output_indices_.values() if isinstance(s, slice)
        )
        for block, where in ct.output_indices_.items():
            if block == "remainder" or where.stop == where.start:
                continue
            if block == "num":
                block_names = list(NUMERIC_FEATURES)
            elif block == "vtype":
                block_names = [str(c) for c in ct.named_transformers_[block].categories_[0]]
            else:
                block_names = list(ct.named_transformers_[block].get_feature_names_out())
            for offset, name in enumerate(block_names):
                names[where.start + offset] = f"{block}:{name}"
        stages = self.pipeline.named_steps.get("stages")
        if stages is not None:
            base = names[: -stages.n_stages]
            gates = [n.split(":", 1)[1] for n in names[-stages.n_stages :]]
            names = names + [f"{gate}|{name}" for gate in gates for name in base]
        return names

    @cached_property
    def coefficients(self) -> np.ndarray:
        return np.asarray(self.pipeline.named_steps["svm"].coef_[0], dtype=np.float64)

    def contributions(self, matrix_row: np.ndarray) -> list[tuple[str, float, float]]:
        """(feature name, contribution to the margin, feature value) for the non-zero
        features of one row; positive pushes toward rumor. A feature's shared weight and
        its stage correction are summed into one contribution. With the blended model
        (1.3.0) the linear pushes are scaled as in its decision, each tree input's
        occlusion effect is added to its feature (``text:source`` / ``text:reposts`` for
        the text models' margins), and the rest of the trees' part is one more entry,
        :data:`BOOST_FEATURE`; together they add up to the margin minus the intercept."""
        vector = self.pipeline[:-1].transform(matrix_row.reshape(1, -1))
        vector = vector.tocsr() if hasattr(vector, "tocsr") else vector
        if hasattr(vector, "indices"):
            idx, values = vector.indices, vector.data
        else:
            dense = np.asarray(vector)[0]
            idx = np.flatnonzero(dense)
            values = dense[idx]
        coef, names = self.coefficients, self.feature_names
        final = self.pipeline.named_steps["svm"]
        scale = float(getattr(final, "svm_scale", 1.0))
        merged: dict[str, list[float]] = {}
        for i, v in zip(idx, values, strict=True):
            name = names[i].rsplit("|", 1)[-1]
            entry = merged.setdefault(name, [0.0, float(v)])
            entry[0] += scale * float(coef[i] * v)
        if hasattr(final, "tree_attributions"):
            # The trees' part: each input's occlusion effect joins that feature's push (the
            # text models' margins become two reasons of their own), and what interactions
            # leave over is one more entry, so that the pushes still add up to the margin.
            features = self.pipeline.named_steps["features"].transform(matrix_row.reshape(1, -1))
            whole, parts = final.tree_attributions(features)
            vtype = next((n for n in merged if n.startswith("vtype:")), None)
            names = final.tree_input_names(list(NUMERIC_FEATURES))
            for name, part in zip(names, parts, strict=True):
                if name == "vtype":
                    name = vtype or ""
                if not name or name == "stage" or not np.isfinite(part):
                    continue
                merged.setdefault(name, [0.0, float("nan")])[0] += float(part)
                whole -= float(part)
            merged[BOOST_FEATURE] = [whole, float("nan")]
        return [(name, push, value) for name, (push, value) in merged.items()]

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        import skops.io as sio

        vectorizers = _vectorizers(self.pipeline)
        # skops writes a dict entry by entry (quadratic: 20k entries take 20 s), so the
        # vocabularies travel as plain string arrays and are rebuilt on load.
        vocabularies = {
            name: np.asarray(vec.get_feature_names_out(), dtype=str)
            for name, vec in vectorizers.items()
        }
        saved = {name: vec.vocabulary_ for name, vec in vectorizers.items()}
        payload = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "pipeline": self.pipeline,
            "vocabularies": vocabularies,
            "calibration": list(self.calibration),
            "meta": self.meta,
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            for vec in vectorizers.values():
                vec.vocabulary_ = {}
                if hasattr(vec, "stop_words_"):  # pruned terms: introspection only, megabytes
                    delattr(vec, "stop_words_")
            sio.dump(payload, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
        finally:
            for name, vec in vectorizers.items():
                vec.vocabulary_ = saved[name]
        return path


def _vectorizers(pipeline: Pipeline) -> dict[str, Any]:
    ct = pipeline.named_steps["features"]
    return {
        name: t
        for name, t in getattr(ct, "named_transformers_", {}).items()
        if hasattr(t, "vocabulary_")
    }


def load_model(path: str | Path | None = None) -> RumorModel:
    """Load a Tingfeng rumor model (the shipped one when ``path`` is None).

    Raises :class:`ModelError` naming the reason for anything that is not one.
    """
    import skops.io as sio

    path = Path(path) if path is not None else shipped_model_path()
    if not path.is_file():
        raise ModelError(f"{path}: 模型文件不存在")
    try:
        found = _archive_types(path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ModelError(f"{path}: 不是听风谣言模型（不是 skops 文件：{exc}）") from None
    # skops' own check only covers types it does not trust by default; a Tingfeng model
    # must contain nothing beyond our explicit list, sklearn estimators included.
    unexpected = sorted(found - set(TRUSTED_TYPES) - _BASIC_TYPES)
    if unexpected:
        raise ModelError(
            f"{path}: 拒绝加载，其中含有听风谣言模型不会有的类型：" + ", ".join(unexpected[:8])
        )
    try:
        payload = sio.load(path, trusted=TRUSTED_TYPES)
    except Exception as exc:  # skops raises many kinds on a corrupt archive
        raise ModelError(f"{path}: 无法作为模型读取（{type(exc).__name__}: {exc}）") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: 不是听风谣言模型（没有 '{FORMAT}' 格式标记）")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path}: 不支持谣言模型格式版本 {payload.get('format_version')!r}"
            f"（本版听风读取版本 {FORMAT_VERSION}），请重新训练"
        )
    pipeline, calibration = payload.get("pipeline"), payload.get("calibration")
    if not isinstance(pipeline, Pipeline) or not _is_pair(calibration):
        raise ModelError(f"{path}: 听风谣言模型不完整（缺少 pipeline 或 calibration）")
    vocabularies = payload.get("vocabularies") or {}
    for name, vec in _vectorizers(pipeline).items():
        terms = vocabularies.get(name)
        if not isinstance(terms, np.ndarray) or len(terms) != len(getattr(vec, "idf_", ())):
            raise ModelError(f"{path}: 听风谣言模型不完整（缺少词表 {name}）")
        vec.vocabulary_ = {term: i for i, term in enumerate(terms.tolist())}
    return RumorModel(
        pipeline, calibration, version=str(payload.get("version")), meta=payload.get("meta") or {}
    )


_BASIC_TYPES = frozenset(
    f"builtins.{name}"
    for name in ("dict", "list", "tuple", "str", "int", "float", "bool", "NoneType")
) | {"numpy.ndarray"}


def _archive_types(path: Path) -> set[str]:
    """Every ``module.Class`` the archive's schema would instantiate."""
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
    )
