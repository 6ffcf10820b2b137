"""Search the guidance index: ``Retriever.search`` returns citable ``Passage`` rows.

A passage's ``id`` is ``<doc-id>#<section-slug>``, stable across rebuilds as
long as the heading keeps its wording, so a reply can cite it and a clinician
can find the same text. Construction does nothing heavy: the index is opened,
brought up to date and the embedding model loaded on the first search.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel

from attune.common.errors import InputError

from .index import CORE_COLLECTION, KnowledgeIndex, clinic_collection_name

__all__ = ["Passage", "Retriever", "MAX_K"]

MAX_K = 50  # passages per search


class Passage(BaseModel):
    """One retrieved section, with everything needed to cite it."""

    id: str  # "<doc-id>#<section-slug>"
    doc_id: str
    title: str
    heading: str
    text: str
    source: str  # short citation, e.g. "Aalbers et al. 2017"
    score: float  # cosine similarity, higher is closer (at most 1)
    evidence_level: str
    topics: list[str] = []
    conditions: list[str] = []
    references: list[str] = []  # full references with DOI or URL
    last_reviewed: str = ""

    def citation(self) -> str:
        return f"{self.title}, \u00a7 {self.heading} [{self.id}] ({self.source})"


def _tags(values: Iterable[str] | str | None, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    tags = [str(v).strip().lower() for v in values if str(v).strip()]
    if not tags and values:
        raise InputError(f"The {what} filter is empty; leave it out to search everything.")
    return tags


def _where(topics: list[str], conditions: list[str]) -> dict[str, Any] | None:
    clauses = []
    for key, values in (("topics", topics), ("conditions", conditions)):
        if len(values) == 1:
            clauses.append({key: {"$contains": values[0]}})
        elif values:  # any of the given tags
            clauses.append({"$or": [{key: {"$contains": v}} for v in values]})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class Retriever:
    """Semantic search over the core corpus plus one clinic's documents."""

    def __init__(self, data_dir: Path | str | None = None, chroma_url: str | None = None, *,
                 clinic: str = "default", corpus_dir: Path | str | None = None,
                 index: KnowledgeIndex | None = None) -> None:
        self.index = index or KnowledgeIndex(data_dir, chroma_url, corpus_dir)
        self.clinic = clinic
        self._collections: list[Any] | None = None
        self._lock = threading.Lock()

    def _ready(self) -> list[Any]:
        with self._lock:
            if self._collections is None:
                self.index.ensure_built()
                names = [CORE_COLLECTION, clinic_collection_name(self.clinic)]
                self._collections = [c for c in map(self.index.get_collection, names) if c is not None]
            return self._collections

    def refresh(self) -> None:
        """Look again for collections (after documents were added elsewhere)."""
        with self._lock:
            self._collections = None

    def search(self, query: str, k: int = 3, topics: Iterable[str] | str | None = None,
               conditions: Iterable[str] | str | None = None) -> list[Passage]:
        """The ``k`` passages closest to ``query``, optionally limited by topic or condition.

        Several topics (or conditions) match any of them; topics and conditions
        together must both match.
        """
        if not isinstance(query, str) or not query.strip():
            raise InputError("A knowledge-base search needs some text to look for; the query was empty.")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InputError(f"The number of passages k must be a whole number from 1 to {MAX_K}; got {k!r}.")
        where = _where(_tags(topics, "topics"), _tags(conditions, "conditions"))
        collections = self._ready()
        from .embedding import embed

        vector = embed([query.strip()])[0]
        passages: list[Passage] = []
        for collection in collections:
            result = collection.query(query_embeddings=[vector], n_results=k, where=where,
                                      include=["documents", "metadatas", "distances"])
            for pid, text, meta, dist in zip(result["ids"][0], result["documents"][0],
                                             result["metadatas"][0], result["distances"][0]):
                passages.append(Passage(
                    id=pid, doc_id=meta["doc_id"], title=meta["title"], heading=meta["heading"],
                    text=text, source=meta["source"], score=round(1.0 - float(dist), 4),
                    evidence_level=meta["evidence_level"], topics=list(meta.get("topics") or []),
                    conditions=list(meta.get("conditions") or []),
                    references=list(meta.get("references") or []),
                    last_reviewed=meta.get("last_reviewed", ""),
                ))
        passages.sort(key=lambda p: p.score, reverse=True)
        return passages[:k]
