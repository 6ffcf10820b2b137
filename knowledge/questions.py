"""Answering a question about the music from the document that answers it.

A question ("why start with gloomy music if I'm already gloomy?") is closer
in meaning to other questions than to a long passage, so each guidance
document carries the questions it answers, in patients' words
(``knowledge/data/document_questions.yaml``, written for Attune). The
nearest of those questions names the document; the passage of that
document nearest to the question is cited. When no authored question is
near (cosine under ``MIN_SIMILARITY``), plain passage search decides.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from importlib import resources

import numpy as np

from attune.common.data import load_yaml

__all__ = ["answer_passages", "nearest_document", "MIN_SIMILARITY"]

MIN_SIMILARITY = 0.45  # cosine; below it the authored questions say nothing about this one
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _questions() -> tuple[list[str], list[str], np.ndarray]:
    from .embedding import embed_cached

    raw = load_yaml(resources.files("attune.knowledge").joinpath("data/document_questions.yaml").read_text("utf-8"))
    docs, texts = [], []
    for doc_id, questions in raw.items():
        for q in questions:
            docs.append(doc_id)
            texts.append(q)
    return docs, texts, embed_cached(texts, "kb-questions")


def nearest_document(question: str) -> tuple[str | None, float]:
    """The document whose authored question is nearest, and the cosine similarity."""
    from .embedding import embed

    with _LOCK:
        docs, _, matrix = _questions()
    sims = matrix @ embed([question])[0]
    best = int(np.argmax(sims))
    return (docs[best], float(sims[best])) if sims[best] >= MIN_SIMILARITY else (None, float(sims[best]))


def answer_passages(retriever, question: str, k: int = 2) -> list:
    """Passages that answer ``question``: the answering document's best ones first."""
    doc, _ = nearest_document(question)
    found = retriever.search(question, k=50 if doc else k)
    if doc:
        own = [p for p in found if p.doc_id == doc]
        if own:
            rest = [p for p in found if p.doc_id != doc]
            return (own + rest)[:k]
    return found[:k]
