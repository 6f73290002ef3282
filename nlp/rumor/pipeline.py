"""The scikit-learn pipeline of the rumor classifier.

A ColumnTransformer turns a row of :mod:`nlp.rumor.features` into one sparse vector:

* source text: word uni/bigrams (``nlp.tokenize.cut``) and character 1–4-grams, which catch
  what the tokeniser splits badly (names, slang, emoticon codes);
* repost/comment text observed so far: words, weighted up because doubt and denial in the
  crowd is the strongest signal once reposts exist;
* Weibo's verification type, one-hot;
* the numeric propagation, author and text-shape features, standardised.

The TF-IDF blocks are :class:`nlp.rumor.vectorize.FastTfidfVectorizer`: sklearn's fit and
output, with a vectorised transform (scoring 3× faster).

A linear SVM separates them. It was chosen over logistic regression after grouped 5-fold
CV: as accurate at every horizon, but 3–5× faster to fit on this sparse, wide input, and its
per-feature contributions (coefficient × value) are the explanations. Since model 1.3.0
:class:`SvmBoostBlend` adds gradient-boosted trees over the text models' out-of-fold margins
and the numeric features (grouped CV with all reposts: 0.961 → 0.967). The blended margin
is turned into a calibrated probability by a sigmoid fitted on out-of-fold margins (see
training). Fit with :func:`fit_pipeline`, which tells the blend where each block lies.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import ThreadpoolController

from nlp.rumor.features import (
    COL_REPOSTS,
    COL_SOURCE,
    COL_STAGE,
    COL_VTYPE,
    N_TEXT_COLS,
    NUMERIC_FEATURES,
    STAGES,
    numeric_block,
)
from nlp.rumor.vectorize import FastTfidfVectorizer
from nlp.tokenize import cut

#: Horizons (hours after the source; None = everything) each training event is cut at, so
#: one model sees what an event looks like at its start, early on and when complete.
TRAIN_HORIZONS_HOURS: tuple[float | None, ...] = (0.0, 1.0, 6.0, None)


def build_pipeline(
    *,
    c: float = 0.5,
    repost_weight: float = 2.0,
    numeric_weight: float = 0.5,
    max_word_features: int = 30_000,
    max_char_features: int = 60_000,
    max_repost_features: int = 30_000,
) -> Pipeline:
    """The untrained pipeline. Vocabulary caps keep the shipped model a few MB."""
    numeric_cols = list(range(N_TEXT_COLS, N_TEXT_COLS + len(NUMERIC_FEATURES)))
    features = ColumnTransformer(
        [
            (
                "src_word",
                FastTfidfVectorizer(
                    tokenizer=cut,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    min_df=2,
                    max_features=max_word_features,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
                COL_SOURCE,
            ),
            (
                "src_char",
                FastTfidfVectorizer(
                    analyzer="char",
                    ngram_range=(1, 4),
                    min_df=2,
                    max_features=max_char_features,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
                COL_SOURCE,
            ),
            (
                "rep_word",
                FastTfidfVectorizer(
                    tokenizer=cut,
                    token_pattern=None,
                    lowercase=False,
                    min_df=3,
                    max_features=max_repost_features,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
                COL_REPOSTS,
            ),
            ("vtype", OneHotEncoder(handle_unknown="ignore"), [COL_VTYPE]),
            (
                "num",
                Pipeline(
                    [
                        ("float", FunctionTransformer(numeric_block)),
                        ("scale", StandardScaler()),
                    ]
                ),
                numeric_cols,
            ),
            # Last, so that StageInteractions finds the stage one-hot in the last columns.
            ("stage", OneHotEncoder(categories=[list(STAGES)]), [COL_STAGE]),
        ],
        # Down-weighting the dense numeric block conditions the SVM's dual solver (2.5× fewer
        # iterations in CV) at no cost in accuracy.
        transformer_weights={"rep_word": repost_weight, "num": numeric_weight},
        sparse_threshold=1.0,
    )
    # The SVMs inside use tol 1e-3 instead of 1e-4 (grouped CV gave identical accuracy at
    # every horizon, in a fifth of the time) and a fixed seed for the dual solver's
    # shuffling, so retraining on the same data gives the same model.
    svm = SvmBoostBlend(c=c, n_stages=len(STAGES))
    return Pipeline(
        [
            ("features", features),
            ("stages", StageInteractions(n_stages=len(STAGES))),
            ("svm", svm),
        ]
    )


class StageInteractions(TransformerMixin, BaseEstimator):
    """Shared features plus one gated copy per propagation stage.

    Input: a feature matrix whose last ``n_stages`` columns one-hot encode the stage.
    Output: ``[X, X_base * stage_0, X_base * stage_1, ...]``, so a linear model learns
    weights shared by all stages plus a correction per stage (Daumé III, "Frustratingly
    easy domain adaptation", 2007): one model that still behaves like a specialist at 0h,
    in the first hours and when complete.

    Parameters
    ----------
    n_stages : int
        Number of trailing stage indicator columns.
    """

    def __init__(self, n_stages: int = 3) -> None:
        self.n_stages = n_stages

    def fit(self, x: sp.spmatrix, y: object = None) -> StageInteractions:
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, x: sp.spmatrix) -> sp.csr_matrix:
        x = sp.csr_matrix(x)
        base = x[:, : -self.n_stages]
        gates = x[:, -self.n_stages :].toarray()
        blocks = [x] + [sp.diags(gates[:, s]) @ base for s in range(self.n_stages)]
        return sp.hstack(blocks, format="csr")


def fit_pipeline(pipeline: Pipeline, x: np.ndarray, y: np.ndarray) -> Pipeline:
    """Fit the pipeline; the final :class:`SvmBoostBlend` is told where each feature block
    of the ColumnTransformer lies, which it needs to stack per-block models."""
    xt = pipeline[:-1].fit_transform(x, y)
    features = pipeline.named_steps["features"]
    pipeline.steps[-1][1].fit(
        xt, y, blocks=features.output_indices_, weights=features.transformer_weights
    )
    return pipeline


class SvmBoostBlend(ClassifierMixin, BaseEstimator):
    """The linear SVM blended with gradient-boosted trees over stacked text margins.

    * ``svm_``: LinearSVC on the whole stage-interacted vector (the explainable part; its
      ``coef_`` is this estimator's ``coef_``).
    * ``src_svm_`` / ``rep_svm_``: LinearSVCs on the source text (word + char TF-IDF, rows
      with no reposts) and on the repost text (rows that have some). Their margins on the
      training rows are out of fold (grouped by identical source text, so every horizon
      of an event and its identical twins are held out together), never in-sample.
    * ``boost_``: HistGradientBoosting on those two margins, the numeric features, the
      verification type and the stage: trees use the propagation and author features in
      ways a linear model cannot (thresholds, interactions with the stage).

    The decision is ``svm_scale * svm margin + boosted log-odds``; the sigmoid of training
    calibrates it. Grouped 5-fold CV: 0.9607 → 0.967 accuracy with all reposts.
    """

    def __init__(
        self,
        c: float = 0.5,
        n_stages: int = 3,
        svm_scale: float = 5.0,
        inner_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.c = c
        self.n_stages = n_stages
        self.svm_scale = svm_scale
        self.inner_folds = inner_folds
        self.random_state = random_state

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.c, tol=1e-3, max_iter=2000, random_state=self.random_state)

    @property
    def coef_(self) -> np.ndarray:
        return self.svm_.coef_

    @property
    def intercept_(self) -> np.ndarray:
        return self.svm_.intercept_

    def fit(
        self,
        x: sp.spmatrix,
        y: np.ndarray,
        blocks: dict | None = None,
        weights: dict | None = None,
    ) -> SvmBoostBlend:
        if blocks is None:
            raise ValueError("SvmBoostBlend needs the feature blocks (use fit_pipeline)")
        x = sp.csr_matrix(x)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.n_features_in_ = x.shape[1]
        # (start, stop) of each block in the un-gated part of the vector (plain ints: skops).
        self.blocks_ = {
            name: (int(s.start), int(s.stop))
            for name, s in blocks.items()
            if isinstance(s, slice) and name != "remainder"
        }
        # The text models see their blocks unweighted (the weights balance the blocks
        # against each other in the shared SVM only).
        self.block_scale_ = {n: 1.0 / float(w) for n, w in (weights or {}).items() if w}
        self.svm_ = self._svm().fit(x, y)
        src, rep = self._src(x), self._rep(x)
        none = self._stage(x) == 0
        has_rep = rep.getnnz(axis=1) > 0
        groups = self._groups(src)
        m_src = np.zeros(x.shape[0])
        m_rep = np.full(x.shape[0], np.nan)
        n_splits = min(self.inner_folds, len(set(groups.tolist())), int(np.bincount(y).min()))
        if n_splits >= 2:
            inner = StratifiedGroupKFold(n_splits, shuffle=True, random_state=self.random_state)
            for tr, te in inner.split(np.zeros(len(y)), y, groups):
                src_model = self._fit_part(src, y, tr[none[tr]])
                rep_model = self._fit_part(rep, y, tr[has_rep[tr]])
                m_src[te] = _margin(src_model, src[te])
                m_rep[te] = _margin(rep_model, rep[te])
        self.src_svm_ = self._fit_part(src, y, np.flatnonzero(none))
        self.rep_svm_ = self._fit_part(rep, y, np.flatnonzero(has_rep))
        m_rep[~has_rep] = np.nan
        dense = self._dense(x, m_src, m_rep)
        # Verification type and stage enter as plain codes (trees split them as well, and
        # categorical support would add a preprocessor of functools.partial to the file).
        boost = HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=200,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            categorical_features=None,
            random_state=self.random_state,
        )
        # One OpenMP thread: the fits already run in parallel processes, and on a busy
        # 2-core machine more threads made this 20x slower (spinning on shared cores).
        with _single_thread():
            self.boost_ = boost.fit(dense, y)
        return self

    def decision_function(self, x: sp.spmatrix) -> np.ndarray:
        x = sp.csr_matrix(x)
        return self.svm_scale * self.svm_.decision_function(x) + self.boosted_margin(x)

    def boosted_margin(self, x: sp.spmatrix) -> np.ndarray:
        """The trees' log-odds. Reads only the un-gated blocks, so ``x`` may be the
        stage-interacted vector or the ColumnTransformer output alone (as explanations pass it)."""
        return self._boost(self._tree_inputs(x))

    def tree_attributions(self, x: sp.spmatrix) -> tuple[float, np.ndarray]:
        """For one row: the trees' log-odds and, per tree input (source-text margin,
        repost-text margin, each numeric feature, verification type, stage), how much the
        log-odds drop when that input alone is set to its neutral value (0: an undecided
        text margin, an average standardised number; missing for the type and stage).

        Trees have no per-feature weights; this occlusion measure is what explanations
        show for them. The parts need not add up to the whole (inputs interact)."""
        row = self._tree_inputs(x)[:1]
        neutral = np.zeros(row.shape[1])
        neutral[-2:] = np.nan  # verification type and stage codes
        variants = np.repeat(row, row.shape[1] + 1, axis=0)
        variants[np.arange(1, len(variants)), np.arange(row.shape[1])] = neutral
        out = self._boost(variants)
        return float(out[0]), out[0] - out[1:]

    def tree_input_names(self, numeric: list[str]) -> list[str]:
        """Names of the tree inputs, ``numeric`` being the numeric block's feature names."""
        return ["text:source", "text:reposts", *(f"num:{n}" for n in numeric), "vtype", "stage"]

    def _tree_inputs(self, x: sp.spmatrix) -> np.ndarray:
        x = sp.csr_matrix(x)
        src, rep = self._src(x), self._rep(x)
        m_src = _margin(self.src_svm_, src)
        m_rep = _margin(self.rep_svm_, rep)
        m_rep[rep.getnnz(axis=1) == 0] = np.nan
        return self._dense(x, m_src, m_rep)

    def input_weights(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Dense columns W and offsets b over the un-gated feature vector x (``width``
        columns: the ColumnTransformer's output) such that ``x @ W + b`` holds, per row,
        the source-text margin, the repost-text margin and the sum of the repost block
        (zero exactly when there are no reposts): with them, scoring gets the text models'
        margins from the one sparse product it already computes."""
        weights, offsets = np.zeros((width, 3)), np.zeros(3)
        parts = [(self.src_svm_, ("src_word", "src_char")), (self.rep_svm_, ("rep_word",))]
        for col, (model, names) in enumerate(parts):
            if isinstance(model, float):
                offsets[col] = model
                continue
            coef, at = np.asarray(model.coef_, dtype=np.float64).ravel(), 0
            for name in names:
                if name in self.blocks_:
                    start, stop = self.blocks_[name]
                    scale = self.block_scale_.get(name, 1.0)
                    weights[start:stop, col] = coef[at : at + stop - start] * scale
                    at += stop - start
            offsets[col] = float(np.ravel(model.intercept_)[0])
        if "rep_word" in self.blocks_:
            start, stop = self.blocks_["rep_word"]
            weights[start:stop, 2] = 1.0
        return weights, offsets

    def boosted_from_parts(
        self,
        m_src: np.ndarray,
        m_rep: np.ndarray,
        numeric: np.ndarray,
        vtype: np.ndarray,
        stage: np.ndarray,
    ) -> np.ndarray:
        """The trees' log-odds from their inputs computed elsewhere (:mod:`nlp.rumor.plan`): the
        text margins (NaN for rows without reposts), the standardised numeric features, the
        verification type's category index (NaN if unseen) and the stage's index."""
        return self._boost(self._assemble(m_src, m_rep, numeric, vtype, stage))

    def _boost(self, dense: np.ndarray) -> np.ndarray:
        with _single_thread():
            return self.boost_.decision_function(dense)

    def predict(self, x: sp.spmatrix) -> np.ndarray:
        return self.classes_[(self.decision_function(x) > 0).astype(int)]

    # -- parts of the input vector -------------------------------------------------------
    def _cols(self, x: sp.csr_matrix, *names: str) -> sp.csr_matrix:
        parts = [
            x[:, slice(*self.blocks_[n])] * self.block_scale_.get(n, 1.0)
            for n in names
            if n in self.blocks_
        ]
        return sp.hstack(parts, format="csr") if parts else sp.csr_matrix((x.shape[0], 0))

    def _src(self, x: sp.csr_matrix) -> sp.csr_matrix:
        return self._cols(x, "src_word", "src_char")

    def _rep(self, x: sp.csr_matrix) -> sp.csr_matrix:
        return self._cols(x, "rep_word")

    def _stage(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(self._cols(x, "stage").argmax(axis=1)).ravel()

    def _dense(self, x: sp.csr_matrix, m_src: np.ndarray, m_rep: np.ndarray) -> np.ndarray:
        # The numeric, verification-type and stage blocks, cut out of x in one slice.
        names = [n for n in ("num", "vtype", "stage") if n in self.blocks_]
        low = min(self.blocks_[n][0] for n in names)
        tail = x[:, low : max(self.blocks_[n][1] for n in names)].toarray()

        def block(name: str) -> np.ndarray:
            start, stop = self.blocks_.get(name, (low, low))
            return tail[:, start - low : stop - low] * self.block_scale_.get(name, 1.0)

        num, vtype, stage = block("num"), block("vtype"), block("stage")
        vcode = vtype.argmax(axis=1).astype(np.float64) if vtype.shape[1] else np.zeros(x.shape[0])
        vcode[~(vtype != 0).any(axis=1)] = np.nan  # unseen type
        return self._assemble(m_src, m_rep, num, vcode, stage.argmax(axis=1))

    @staticmethod
    def _assemble(
        m_src: np.ndarray, m_rep: np.ndarray, num: np.ndarray, vcode: np.ndarray, stage: np.ndarray
    ) -> np.ndarray:
        return np.column_stack([m_src, m_rep, num, vcode, stage.astype(np.float64)])

    def _fit_part(self, x: sp.csr_matrix, y: np.ndarray, rows: np.ndarray) -> LinearSVC | float:
        if len(rows) == 0 or len(set(y[rows].tolist())) < 2:
            return 0.0  # nothing to learn from: a constant margin
        return self._svm().fit(x[rows], y[rows])

    @staticmethod
    def _groups(src: sp.csr_matrix) -> np.ndarray:
        """Rows with the same source-text vector (one event at every horizon, and its
        identical twins) share a group."""
        ids: dict[bytes, int] = {}
        out = np.empty(src.shape[0], dtype=np.int64)
        for i in range(src.shape[0]):
            a, b = src.indptr[i], src.indptr[i + 1]
            key = src.indices[a:b].tobytes() + np.round(src.data[a:b], 5).tobytes()
            out[i] = ids.setdefault(key, len(ids))
        return out


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspecting the loaded libraries takes about 1 ms


def _single_thread() -> object:
    """A context in which OpenMP/BLAS use one thread (fits run in parallel processes, and
    on a busy 2-core machine more threads made the trees 20× slower)."""
    return _controller().limit(limits=1)


def _margin(model: LinearSVC | float, x: sp.spmatrix) -> np.ndarray:
    if isinstance(model, float):
        return np.full(x.shape[0], model)
    if x.shape[1] == 0:
        return np.zeros(x.shape[0])
    return model.decision_function(x)
