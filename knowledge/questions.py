"""Answering a question about the music from the document that answers it.

A question ("why start with gloomy music if I'm already gloomy?") is closer
in meaning to other questions than to a long passage, so each guidance
document carries the questions it answers, in patients' words
(``knowledge/data/document_questions*.yaml``, written for Attune). A
classifier trained on those questions names the document; the passage of
that document is cited: the section whose own authored questions
(``knowledge/data/section_questions.yaml``) the question reads most like, a
second classifier over every section restricted to that document's sections,
else the document's passage nearest to the question. A message with more than the
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
#: the authored questions per document: the first set, and 612 more written from the documents alone
QUESTION_FILES = ("document_questions.yaml", "document_questions_more.yaml", "document_questions_third.yaml")
#: the authored questions per section ("<doc-id>#<section-slug>", as the index's passage ids)
SECTION_FILE = "section_questions.yaml"


@lru_cache(maxsize=1)
def _questions() -> tuple[list[str], list[str], np.ndarray]:
    from .embedding import embed_cached

    docs, texts = [], []
    for name in QUESTION_FILES:
        raw = load_yaml(resources.files("attune.knowledge").joinpath(f"data/{name}").read_text("utf-8"))
        for doc_id, questions in raw.items():
            for q in questions:
                docs.append(doc_id)
                texts.append(q)
    return docs, texts, embed_cached(texts, "kb-questions")


class _WhichDocument:
    """Which document (or section) answers a question: a logistic regression over [embedding | character
    n-grams] of the authored questions, kept as plain arrays. It reads the wording as a whole where the
    nearest single question follows one shared word ("why did you start with a sad song" sat nearest a
    question of the sad-music document); on 108 questions of the spent blind sets 1-4 it named the right
    document for 82 where the nearest question did for 70."""

    def __init__(self, docs: list[str], texts: list[str], matrix: np.ndarray) -> None:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression

        from .ngrams import CharNgrams

        self.ngrams = CharNgrams.fit(texts, (2, 4), min_df=2, max_features=5000)
        x = hstack([csr_matrix(matrix), self.ngrams.transform(texts)]).tocsr()
        model = LogisticRegression(C=16.0, max_iter=3000).fit(x, docs)
        self.classes = [str(c) for c in model.classes_]
        coef = model.coef_.astype(np.float32)
        n = matrix.shape[1]
        self.wd, self.ws, self.b = coef[:, :n].T.copy(), coef[:, n:].T.copy(), model.intercept_.astype(np.float32)

    def best(self, dense: np.ndarray, text: str, within: str | None = None) -> str | None:
        """The most likely label; with ``within``, among the labels of that document ("<doc>#...") only,
        None when it has none."""
        z = dense @ self.wd + np.asarray(self.ngrams.transform([text]) @ self.ws)[0] + self.b
        if within is None:
            return self.classes[int(np.argmax(z))]
        allowed = [i for i, c in enumerate(self.classes) if c.split("#", 1)[0] == within]
        return self.classes[max(allowed, key=lambda i: z[i])] if allowed else None


@lru_cache(maxsize=1)
def _which() -> _WhichDocument:
    import hashlib

    from .embedding import cached_fit

    docs, texts, matrix = _questions()
    key = hashlib.sha256("\n".join(f"{d}\t{t}" for d, t in zip(docs, texts)).encode("utf-8")).hexdigest()
    return cached_fit("kb-which-document", key, lambda: _WhichDocument(docs, texts, matrix))


@lru_cache(maxsize=1)
def _section_questions() -> tuple[list[str], list[str], np.ndarray]:
    from .embedding import embed_cached

    raw = load_yaml(resources.files("attune.knowledge").joinpath(f"data/{SECTION_FILE}").read_text("utf-8"))
    sections = [sid for sid, questions in raw.items() for _ in questions]
    texts = [q for questions in raw.values() for q in questions]
    return sections, texts, embed_cached(texts, "kb-section-questions")


@lru_cache(maxsize=1)
def _which_section() -> _WhichDocument:
    import hashlib

    from .embedding import cached_fit

    sections, texts, matrix = _section_questions()
    key = hashlib.sha256("\n".join(f"{d}\t{t}" for d, t in zip(sections, texts)).encode("utf-8")).hexdigest()
    return cached_fit("kb-which-section", key, lambda: _WhichDocument(sections, texts, matrix))


def nearest_document(question: str) -> tuple[str | None, float]:
    """The document that answers the question (None when no authored question is near), and the cosine
    similarity of the nearest authored question."""
    doc, sim, _ = _nearest(question)
    return doc, sim


def _nearest(question: str) -> tuple[str | None, float, str]:
    """The answering document, the nearest authored question's similarity, and the part of the message that
    matched it."""
    doc, best, matched, _ = _read_question(question)
    return doc, best, matched


def _read_question(question: str) -> tuple[str | None, float, str, str | None]:
    """As ``_nearest``, and the section of that document that answers it (None: no authored section)."""
    from .embedding import embed

    with _LOCK:
        docs, _, matrix = _questions()
        which = _which()
        which_section = _which_section()
    asked = _asked(question)
    vectors = embed(asked)
    sims = matrix @ vectors.T  # authored questions x (the whole message, each of its questions)
    row, col = np.unravel_index(int(np.argmax(sims)), sims.shape)
    best = float(sims[row, col])
    if best < MIN_SIMILARITY:
        return None, best, asked[col], None
    doc = which.best(vectors[col], asked[col])
    return doc, best, asked[col], which_section.best(vectors[col], asked[col], within=doc)


def _asked(message: str) -> list[str]:
    """The message, and each of its question sentences when it has other sentences too."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", message.strip()) if p.strip()]
    return [message] + ([p for p in parts if p.endswith("?")] if len(parts) > 1 else [])


def answer_passages(retriever, question: str, k: int = 2) -> list:
    """Passages that answer ``question``: the answering document's best ones first."""
    doc, _, matched, section = _read_question(question)
    found = retriever.search(matched, k=50 if doc else k)
    if doc:
        own = sorted((p for p in found if p.doc_id == doc), key=lambda p: p.id != section)  # stable: by score after
        if own:
            rest = [p for p in found if p.doc_id != doc and p.score >= MIN_PASSAGE_SCORE]
            return (own + rest)[:k]
    return [p for p in found if p.score >= MIN_PASSAGE_SCORE][:k]
