"""The learned layer: logistic regression over sentence embeddings.

Trained at first use from the packaged exemplars (``data/safety_exemplars.yaml``,
kept apart from the evaluation set) and kept in memory for the process;
importing this module loads nothing. Each prediction also names the nearest
exemplar (label and index, never its text) for the audit log.

What it leaves out: it never decides alone on a borderline score; the input
guard combines it with the phrase rules and the conversation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from .normalize import normalise
from .rules import mask_figurative

__all__ = ["LearnedLayer", "Prediction", "load_exemplars", "EXEMPLARS_PATH", "LABELS", "prepare"]

EXEMPLARS_PATH = Path(__file__).resolve().parent.parent / "data" / "safety_exemplars.yaml"
EXTRA_EXEMPLARS_PATH = EXEMPLARS_PATH.with_name("safety_exemplars_extra.yaml")
LABELS = ("benign", "crisis", "harmful", "injection", "out_of_scope")


def load_exemplars(path: Path = EXEMPLARS_PATH) -> list[tuple[str, str, str]]:
    """(text, label, sub-category) triples from the exemplar file.

    The default file also brings in ``safety_exemplars_extra.yaml`` when present.
    """
    paths = [path]
    if path == EXEMPLARS_PATH and EXTRA_EXEMPLARS_PATH.exists():
        paths.append(EXTRA_EXEMPLARS_PATH)
    rows: list[tuple[str, str, str]] = []
    for p in paths:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
        for label, value in data.items():
            if label not in LABELS:
                raise ValueError(f"unknown exemplar label {label!r} in {p}")
            groups = value if isinstance(value, dict) else {label: value}
            for sub, texts in groups.items():
                rows.extend((str(t), label, sub) for t in texts or [])
    return rows


def prepare(text: str) -> str:
    """The text the embedding sees: normalised, figurative phrases removed."""
    masked, _ = mask_figurative(normalise(text).text)
    return masked.replace("_fig_", " ").strip() or "."


@dataclass(frozen=True, slots=True)
class Prediction:
    probs: dict[str, float]
    nearest_label: str
    nearest_sub: str
    nearest_index: int
    nearest_similarity: float

    def p(self, label: str) -> float:
        return self.probs.get(label, 0.0)


class LearnedLayer:
    """Fits on first use; ``predict`` takes prepared texts (see ``prepare``)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray] | None = None,
                 exemplars_path: Path = EXEMPLARS_PATH, c: float = 2.0) -> None:
        self._embed_fn = embed
        self._path = exemplars_path
        self._c = c
        self._lock = threading.Lock()
        self._model = None
        self._matrix: np.ndarray | None = None
        self._rows: list[tuple[str, str, str]] = []

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._embed_fn is None:
            from attune.knowledge.embedding import embed  # loads the ONNX model on first call

            self._embed_fn = embed
        return self._embed_fn(texts)

    def fit(self) -> "LearnedLayer":
        from sklearn.linear_model import LogisticRegression

        with self._lock:
            if self._model is not None:
                return self
            rows = load_exemplars(self._path)
            matrix = self._embed([prepare(t) for t, _, _ in rows])
            labels = [label for _, label, _ in rows]
            model = LogisticRegression(C=self._c, max_iter=2000, class_weight="balanced")
            model.fit(matrix, labels)
            self._rows, self._matrix, self._model = rows, matrix, model
        return self

    @property
    def fitted(self) -> bool:
        return self._model is not None

    def predict(self, prepared: list[str]) -> list[Prediction]:
        if not prepared:
            return []
        self.fit()
        vectors = self._embed(prepared)
        probs = self._model.predict_proba(vectors)
        sims = vectors @ self._matrix.T
        out = []
        for row, sim in zip(probs, sims):
            best = int(np.argmax(sim))
            _, label, sub = self._rows[best]
            out.append(Prediction(
                probs={str(c): float(p) for c, p in zip(self._model.classes_, row)},
                nearest_label=label, nearest_sub=sub, nearest_index=best,
                nearest_similarity=float(sim[best]),
            ))
        return out


_shared: LearnedLayer | None = None
_shared_lock = threading.Lock()


def shared_layer() -> LearnedLayer:
    """One process-wide layer (fitted lazily on first prediction)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LearnedLayer()
        return _shared
