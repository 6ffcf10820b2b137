"""Answering a question about the music from the document that answers it.

A question ("why start with gloomy music if I'm already gloomy?") is closer
in meaning to other questions than to a long passage, so each guidance
document carries the questions it answers, in patients' words
(``knowledge/data/document_questions.yaml``, written for Attune). The
nearest of those questions names the document; the passage of that
document nearest to the question is cited. A message with more than the
question in it ("better. why did it start so low though?") is also matched by
its question sentences alone. When no authored question is near (cosine under
``MIN_SIMILARITY``), plain passage search decides, and only a passage scoring
at least ``MIN_PASSAGE_SCORE`` counts: an answer from the last piece's own
notes is better than the nearest passage on another subject.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib import resources

import numpy as np

from attune.common.data import load_yaml

__all__ = ["answer_passages", "nearest_document", "MIN_SIMILARITY", "MIN_PASSAGE_SCORE"]

MIN_SIMILARITY = 0.45  # cosine; below it the authored questions say nothing about this one
MIN_PASSAGE_SCORE = 0.3  # plain search: below it (seen: a crisis-helpline statistic at 0.24 for
                         # "why did it start so low?") the passage is about something else
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
    doc, sim, _ = _nearest(question)
    return doc, sim


def _nearest(question: str) -> tuple[str | None, float, str]:
    """The nearest document, its similarity, and the part of the message that matched it."""
    from .embedding import embed

    with _LOCK:
        docs, _, matrix = _questions()
    asked = _asked(question)
    sims = matrix @ embed(asked).T  # authored questions x (the whole message, each of its questions)
    row, col = np.unravel_index(int(np.argmax(sims)), sims.shape)
    best = float(sims[row, col])
    return (docs[row] if best >= MIN_SIMILARITY else None), best, asked[col]


def _asked(message: str) -> list[str]:
    """The message, and each of its question sentences when it has other sentences too."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", message.strip()) if p.strip()]
    return [message] + ([p for p in parts if p.endswith("?")] if len(parts) > 1 else [])


def answer_passages(retriever, question: str, k: int = 2) -> list:
    """Passages that answer ``question``: the answering document's best ones first."""
    doc, _, matched = _nearest(question)
    found = retriever.search(matched, k=50 if doc else k)
    if doc:
        own = [p for p in found if p.doc_id == doc]
        if own:
            rest = [p for p in found if p.doc_id != doc and p.score >= MIN_PASSAGE_SCORE]
            return (own + rest)[:k]
    return [p for p in found if p.score >= MIN_PASSAGE_SCORE][:k]
