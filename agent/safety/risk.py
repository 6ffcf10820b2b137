"""Risk read from its parts: interest in a means, distress, and requests for other people's data.

The phrase rules recognise wordings; this layer reads what a message is
about, so a new wording of the same risk is still seen. Three small
classifiers over [sentence embedding | character n-grams], each trained on
its own authored dataset in ``agent/data/safety_risk/`` (written by people
who never saw the rules or the blind sets, six languages):

* ``means``: none / fact / lethal. *fact* is a neutral question about
  something that could serve as a means (how high a bridge is, how deep a
  river, the largest dose of one's own tablets); *lethal* asks how to die or
  how deadly something is, whatever the stated purpose (a class, a novel).
* ``distress``: none / distress / risk. *distress* is heavy loss or despair
  without words of death; *risk* is suicidal thinking at any level or self-harm.
* ``privacy``: asking for another person's data held by the service.

The input guard combines them (see ``InputGuard.screen``): a means interest
together with distress anywhere in the recent conversation is a crisis (the
masked-intent pattern in CLINICAL.md); a lethality question alone is a
method request, refused with the crisis resources; a fact question alone is
allowed. Thresholds sit in ``RiskThresholds`` and are calibrated for recall
first on the team's regression sets (``evals/risk_calibration.py``), never on
a blind set.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RiskReading", "RiskReader", "RiskThresholds", "risk_reader", "DATA_DIR"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "safety_risk"
HEADS = {"means": ("none", "fact", "lethal"), "distress": ("none", "distress", "risk"),
         "privacy": ("none", "privacy")}
DATA_VERSION = "risk-2"  # bump to rebuild the cached model after a change of features
CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class RiskReading:
    """Probabilities for one text (the largest over its sentence windows)."""

    lethal: float
    fact: float
    risk: float
    distress: float
    privacy: float

    @property
    def means(self) -> float:
        """Any interest in a means: a lethality question or a neutral fact about one."""
        return self.lethal + self.fact

    @property
    def despair(self) -> float:
        """Distress or risk: what makes a later means question alarming."""
        return self.distress + self.risk


@dataclass(frozen=True)
class RiskThresholds:
    """Chosen with ``evals/risk_calibration.py`` (out-of-fold on the training data, false positives on the
    team's regression sets); 2026-12-03: lethal >= 0.85 finds 0.6 of held-out lethality questions with no
    false positive among fact and ordinary questions; means >= 0.7 with despair >= 0.8 finds 0.58 of
    held-out means-after-distress pairs (0.08 with an ordinary earlier message instead)."""

    risk: float = 0.95  # this message or a recent one alone reads as suicidal thinking or self-harm
    means: float = 0.70  # interest in a means (fact or lethal)
    despair: float = 0.80  # distress or risk, in this message or a recent one
    lethal: float = 0.85  # a lethality question: refused as a method request when nothing else decides
    privacy: float = 0.85  # asking for another person's data


def data_files(head: str) -> list[Path]:
    """One head's dataset: ``<head>.jsonl`` and any ``<head>_<part>.jsonl`` written later."""
    return [DATA_DIR / f"{head}.jsonl"] + sorted(DATA_DIR.glob(f"{head}_*.jsonl"))


def load_rows(head: str) -> list[tuple[str, str]]:
    """(text, label) of one head's dataset; an unknown label fails loudly (a typo must not drop rows)."""
    rows = []
    for path in data_files(head):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            item = json.loads(line)
            if item["label"] not in HEADS[head]:
                raise ValueError(f"{path.name}:{n}: unknown label {item['label']!r} (expected one of {HEADS[head]})")
            rows.append((item["text"], item["label"]))
    return rows


class _Head:
    """A logistic regression kept as arrays (scikit-learn's per-call checks cost more than the maths)."""

    def __init__(self, x, labels: list[str], classes: tuple[str, ...], n_dense: int, c: float = 4.0) -> None:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, labels)
        order = [list(model.classes_).index(k) for k in classes]
        coef = model.coef_.astype(np.float32)
        if coef.shape[0] == 1:  # binary: one row of log-odds for classes_[1]
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2], dtype=np.float32)
        else:
            intercept = model.intercept_.astype(np.float32)
        self.wd = coef[order, :n_dense].T.copy()
        self.ws = coef[order, n_dense:].T.copy()
        self.b = intercept[order]

    def proba(self, dense: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Class probabilities of one text from its embedding and its TF-IDF n-gram weights."""
        z = dense @ self.wd + (weights @ self.ws[cols] if len(cols) else 0.0) + self.b
        z = z - z.max()
        e = np.exp(z)
        return e / e.sum()


class RiskReader:
    """The three heads, fitted on prepared texts (the same normalising the learned layer uses)."""

    def __init__(self) -> None:
        from scipy.sparse import csr_matrix, hstack

        from attune.knowledge.embedding import embed_cached
        from attune.knowledge.ngrams import CharNgrams

        from .learned import prepare

        own = {h: load_rows(h) for h in HEADS}
        # each head also learns "none" from the other datasets' rows that plainly are not its kind: a
        # height question is no despair, a breakup is no means question, neither asks for others' data
        borrowed = {
            "means": [(t, "none") for t, y in own["distress"] if y != "risk"],
            "distress": [(t, "none") for t, y in own["means"] if y != "lethal"],
            "privacy": [(t, "none") for h in ("means", "distress") for t, _ in own[h]],
        }
        data = {h: list(dict.fromkeys((prepare(t), y) for t, y in own[h] + borrowed[h])) for h in HEADS}
        texts = list(dict.fromkeys(t for rows in data.values() for t, _ in rows))
        self.ngrams = CharNgrams.fit(texts, (2, 4), min_df=2, max_features=40000)
        dense = embed_cached(texts, "safety-risk")
        index = {t: i for i, t in enumerate(texts)}
        x = hstack([csr_matrix(dense), self.ngrams.transform(texts)]).tocsr()
        self.heads = {}
        for head, rows in data.items():
            rows_x = x[[index[t] for t, _ in rows]]
            self.heads[head] = _Head(rows_x, [y for _, y in rows], HEADS[head], dense.shape[1])
        self.n_train = {h: len(r) for h, r in data.items()}
        self._cache: OrderedDict[str, RiskReading] = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"], state["_lock"] = OrderedDict(), None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def read(self, prepared: list[str]) -> list[RiskReading]:
        """One reading per prepared text (see ``learned.prepare``); recent texts come from a bounded cache."""
        from attune.knowledge.embedding import embed

        with self._lock:
            known = {t: self._cache[t] for t in prepared if t in self._cache}
        todo = list(dict.fromkeys(t for t in prepared if t not in known))
        if todo:
            dense = embed(todo)  # shared with the learned layer through the embedder's recent-text cache
            for i, text in enumerate(todo):
                cols, weights = self.ngrams.row(text)
                p = {h: head.proba(dense[i], cols, weights) for h, head in self.heads.items()}
                known[text] = RiskReading(lethal=float(p["means"][2]), fact=float(p["means"][1]),
                                          risk=float(p["distress"][2]), distress=float(p["distress"][1]),
                                          privacy=float(p["privacy"][1]))
            with self._lock:
                for text in todo:
                    self._cache[text] = known[text]
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return [known[t] for t in prepared]

    def read_most(self, windows: list[str]) -> RiskReading:
        """The largest of each probability over a message's sentence windows."""
        rs = self.read(windows)
        return RiskReading(*(max(getattr(r, f) for r in rs) for f in ("lethal", "fact", "risk", "distress", "privacy")))


_reader: RiskReader | None = None
_reader_lock = threading.Lock()


def risk_reader() -> RiskReader:
    """The process-wide reader: from the disk cache (keyed by the data), or fitted once and cached."""
    global _reader
    if _reader is None:
        with _reader_lock:
            if _reader is None:
                from attune.knowledge.embedding import cached_fit

                from .learned import _preparing_code_digest

                # the heads read prepared text, so a change of normalising or masking refits them too
                key = (DATA_VERSION + _preparing_code_digest()
                       + "".join(p.read_text(encoding="utf-8") for h in HEADS for p in data_files(h)))
                _reader = cached_fit("safety-risk", key, RiskReader)
    return _reader
