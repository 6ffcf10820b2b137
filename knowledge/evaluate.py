"""Retrieval quality: recall@k over the question set in ``data/questions.yaml``.

Each question lists the documents that answer it. A question counts as
answered at k when any of the top-k passages comes from one of those
documents (hit rate, often called recall@k for single-answer sets). The
questions were written from what patients and clinicians ask, not from the
retriever's output.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from attune.common.errors import ConfigError

from .retrieve import Retriever

__all__ = ["Question", "EvalReport", "load_questions", "evaluate", "RECALL_GOAL"]

RECALL_GOAL = 0.9


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    asker: str = Field(pattern="^(patient|clinician)$")
    question: str = Field(min_length=3)
    answers: list[str] = Field(min_length=1)  # doc ids


class Miss(BaseModel):
    id: str
    question: str
    expected: list[str]
    got: list[str]


class EvalReport(BaseModel):
    k: int
    questions: int
    recall: float
    mrr: float
    misses: list[Miss]


def questions_path() -> Path:
    return Path(str(importlib.resources.files("attune.knowledge") / "data" / "questions.yaml"))


def load_questions(path: Path | None = None) -> list[Question]:
    path = path or questions_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [Question.model_validate(q) for q in data["questions"]]
    except Exception as exc:  # a broken question file is a configuration bug
        raise ConfigError(f"The question set {path} cannot be read: {exc}") from None


def evaluate(retriever: Retriever | None = None, k: int = 3, data_dir: Path | None = None,
             questions: list[Question] | None = None) -> EvalReport:
    retriever = retriever or Retriever(data_dir)
    questions = questions if questions is not None else load_questions()
    hits, rr, misses = 0, 0.0, []
    for q in questions:
        got = [p.doc_id for p in retriever.search(q.question, k=k)]
        ranks = [i for i, d in enumerate(got, start=1) if d in q.answers]
        if ranks:
            hits += 1
            rr += 1.0 / ranks[0]
        else:
            misses.append(Miss(id=q.id, question=q.question, expected=q.answers, got=got))
    n = len(questions) or 1
    return EvalReport(k=k, questions=len(questions), recall=round(hits / n, 4),
                      mrr=round(rr / n, 4), misses=misses)
