"""attune.knowledge: the cited guidance corpus, its chromadb index and retrieval.

Importing loads neither chromadb nor the embedding model; they load on first
build or search.
"""

from .corpus import Document, FrontMatter, Source
from .evaluate import evaluate
from .index import BuildReport, KnowledgeIndex
from .retrieve import Passage, Retriever


def add_documents(paths, clinic: str = "default", data_dir=None, chroma_url=None) -> BuildReport:
    """Add clinician files to ``clinic``'s collection (see ``KnowledgeIndex.add_documents``)."""
    return KnowledgeIndex(data_dir, chroma_url).add_documents(paths, clinic=clinic)


def build(data_dir=None, chroma_url=None, force: bool = False) -> BuildReport:
    """Build the core index under ``<data_dir>/chroma`` (or on the Chroma server)."""
    return KnowledgeIndex(data_dir, chroma_url).build(force=force)


__all__ = ["Document", "FrontMatter", "Source", "BuildReport", "KnowledgeIndex", "Passage",
           "Retriever", "evaluate", "add_documents", "build"]
