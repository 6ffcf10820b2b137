"""The chromadb index over the corpus: build, rebuild on change, clinic documents.

One collection holds the core corpus (``attune-kb-core``); each clinic gets its
own (``attune-kb-clinic-<name>``) built from the files added with
``add_documents``, which are kept as normalised Markdown under
``<data_dir>/knowledge/clinics/<name>/`` so that a rebuild can restore them.
A collection records the hash of its source folder and the index layout
version; a build whose hash and version match is a no-op.

Local mode keeps a persistent index in ``<data_dir>/chroma``; a folder that
cannot be opened (corrupt, or written by an incompatible version) is moved
aside and rebuilt with a warning, never a crash. With ``chroma_url`` the same
collections live on a Chroma server (``chromadb.HttpClient``). Queries are in
``retrieve.py``.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel

from attune.common.errors import BackendUnreachable, ConfigError, InputError

from .corpus import (
    Document, Problem, chunk_document, core_corpus_dir, folder_hash, load_corpus,
    load_document, load_plain_text, parse_document, slugify,
)

__all__ = ["INDEX_VERSION", "CORE_COLLECTION", "BuildReport", "KnowledgeIndex",
           "clinic_collection_name", "default_data_dir"]

log = logging.getLogger("attune.knowledge")

INDEX_VERSION = 3  # bump when chunk ids, metadata keys or the embedding change
CORE_COLLECTION = "attune-kb-core"
ADD_BATCH = 128  # chunks per add call
EMBED_BATCH = 16  # texts per ONNX run


def clinic_collection_name(clinic: str) -> str:
    slug = slugify(clinic)
    if not slug:
        raise InputError(f"A clinic name needs letters or digits; got {clinic!r}.")
    return f"attune-kb-clinic-{slug}"[:63].rstrip("-")


def default_data_dir() -> Path:
    import os

    import platformdirs

    return Path(os.environ.get("ATTUNE_DATA_DIR") or platformdirs.user_data_dir("attune"))


class BuildReport(BaseModel):
    """What a build did: ``built`` is False when the index was already current."""

    collection: str
    built: bool
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    corpus_hash: str = ""
    reason: str = ""
    problems: list[Problem] = []
    messages: list[str] = []


def _chunk_metadata(doc: Document) -> dict[str, Any]:
    # chromadb 1.5 accepts lists of scalars as metadata values (filtered with
    # $contains) but rejects empty lists, which FrontMatter already forbids.
    m = doc.meta
    return {
        "doc_id": m.id,
        "title": m.title,
        "topics": list(m.topics),
        "conditions": list(m.conditions),
        "evidence_level": m.evidence_level,
        "source": doc.source_summary,
        "references": [s.reference() for s in m.sources],
        "last_reviewed": m.last_reviewed.isoformat(),
        "path": doc.path,
    }


def _embed_sorted(texts: list[str]) -> Any:
    """Embed in small batches of similar length: padding to 256 word pieces in
    batches of 64 was several times slower on a 2-core CPU."""
    import numpy as np

    from .embedding import DIMENSIONS, get_embedder

    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return out
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows = get_embedder().embed([texts[i] for i in order], batch_size=EMBED_BATCH)
    out[order] = rows
    return out


class KnowledgeIndex:
    """Owns the chromadb client and the collections; everything loads lazily."""

    def __init__(self, data_dir: Path | str | None = None, chroma_url: str | None = None,
                 corpus_dir: Path | str | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.chroma_url = chroma_url or None
        self.corpus_dir = Path(corpus_dir) if corpus_dir is not None else core_corpus_dir()
        self._client: Any = None
        self._lock = threading.RLock()
        self.messages: list[str] = []  # warnings from opening the index, for the CLI

    # Paths ------------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    def clinic_dir(self, clinic: str) -> Path:
        return self.data_dir / "knowledge" / "clinics" / slugify(clinic)

    # Client -----------------------------------------------------------------
    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._connect_http() if self.chroma_url else self._open_local()
            return self._client

    def _settings(self) -> Any:
        import chromadb

        # Same settings on every open: chromadb refuses a second client on one
        # path with different settings.
        return chromadb.Settings(anonymized_telemetry=False)

    def _connect_http(self) -> Any:
        import chromadb

        url = urlparse(self.chroma_url if "://" in self.chroma_url else f"http://{self.chroma_url}")
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"ATTUNE_CHROMA_URL must look like http://host:port, got {self.chroma_url!r}.")
        port = url.port or (443 if url.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https",
                                         settings=self._settings())
            client.heartbeat()
            self._embedding_function()  # register before stored configs are read
        except Exception as exc:  # connection refused, DNS, TLS, timeouts: all look alike to a user
            raise BackendUnreachable(
                f"The Chroma server at {self.chroma_url} did not answer ({type(exc).__name__}). "
                "Start it (for example `chroma run --path DIR --port 8000`) or unset "
                "ATTUNE_CHROMA_URL to use the local index."
            ) from None
        return client

    def _open_local(self) -> Any:
        try:
            return self._try_open_local()
        except Exception as exc:
            # A corrupt or incompatible folder is a cache, not data: move it aside and rebuild.
            message = (f"The knowledge index in {self.chroma_dir} could not be opened "
                       f"({type(exc).__name__}: {exc}); it is rebuilt from the corpus.")
            self._warn(message)
            self._discard_local()
            return self._try_open_local()

    def _try_open_local(self) -> Any:
        import chromadb

        self._embedding_function()  # registers "attune-minilm-int8" before stored configs are read
        self.chroma_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(self.chroma_dir), settings=self._settings())
        for collection in client.list_collections():  # touches sqlite and every collection's config
            client.get_collection(collection.name).count()
        return client

    def _discard_local(self) -> None:
        from chromadb.api.shared_system_client import SharedSystemClient

        # chromadb caches one system per path; it must go before the folder does.
        SharedSystemClient.clear_system_cache()
        self._client = None
        if self.chroma_dir.exists():
            aside = self.chroma_dir.with_name(f"chroma.broken-{int(time.time())}")
            try:
                self.chroma_dir.rename(aside)
                shutil.rmtree(aside, ignore_errors=True)
            except OSError:
                shutil.rmtree(self.chroma_dir, ignore_errors=True)

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.messages.append(message)

    # Collections ------------------------------------------------------------
    def _embedding_function(self) -> Any:
        from .embedding import MiniLMEmbeddingFunction

        return MiniLMEmbeddingFunction()

    def get_collection(self, name: str) -> Any | None:
        """An existing collection with the registered embedding, or None."""
        from chromadb.errors import NotFoundError

        try:
            return self.client.get_collection(name, embedding_function=self._embedding_function())
        except NotFoundError:
            return None
        except ValueError as exc:
            # e.g. stored with another embedding function: treat as stale
            self._warn(f"The collection {name} does not match this version ({exc}); it is rebuilt.")
            self.client.delete_collection(name)
            return None

    def _current(self, collection: Any | None, corpus_hash: str) -> str:
        """'' when current, else why it must be (re)built."""
        if collection is None:
            return "no index yet"
        meta = collection.metadata or {}
        if meta.get("index_version") != INDEX_VERSION:
            return f"index layout version {meta.get('index_version')} is not {INDEX_VERSION}"
        if meta.get("corpus_hash") != corpus_hash:
            return "the corpus changed"
        return ""

    def _build_folder(self, name: str, folder: Path, force: bool) -> BuildReport:
        started = time.perf_counter()
        with self._lock:
            corpus_hash = folder_hash(folder)
            collection = self.get_collection(name)
            reason = "forced" if force else self._current(collection, corpus_hash)
            if not reason:
                return BuildReport(collection=name, built=False, corpus_hash=corpus_hash,
                                   documents=collection.metadata.get("documents", 0),
                                   chunks=collection.count(), reason="up to date")
            docs, problems = load_corpus(folder)
            for p in problems:
                self._warn(f"Skipped a corpus document: {p.message}")
            if collection is not None:
                if reason not in ("forced", "the corpus changed"):
                    self._warn(f"Rebuilding {name}: {reason}.")
                self.client.delete_collection(name)
            collection = self.client.create_collection(
                name, embedding_function=self._embedding_function(),
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"index_version": INDEX_VERSION, "corpus_hash": "incomplete"},
            )
            chunks = [(c, doc) for doc in docs for c in chunk_document(doc)]
            vectors = _embed_sorted([c.embed_text() for c, _ in chunks])
            for start in range(0, len(chunks), ADD_BATCH):
                batch = chunks[start:start + ADD_BATCH]
                collection.add(
                    ids=[c.id for c, _ in batch],
                    documents=[c.text for c, _ in batch],
                    embeddings=[row for row in vectors[start:start + ADD_BATCH]],
                    metadatas=[{**_chunk_metadata(doc), "heading": c.heading} for c, doc in batch],
                )
            # The hash goes in last: an interrupted build is never mistaken for a current one.
            collection.modify(metadata={
                "index_version": INDEX_VERSION, "corpus_hash": corpus_hash, "documents": len(docs),
                "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            })
            return BuildReport(collection=name, built=True, documents=len(docs), chunks=len(chunks),
                               seconds=round(time.perf_counter() - started, 3),
                               corpus_hash=corpus_hash, reason=reason, problems=problems,
                               messages=list(self.messages))

    # Public API -------------------------------------------------------------
    def build(self, force: bool = False) -> BuildReport:
        """Index the core corpus unless it is already current; rebuild clinic collections too."""
        report = self._build_folder(CORE_COLLECTION, self.corpus_dir, force)
        clinics = self.data_dir / "knowledge" / "clinics"
        if clinics.is_dir():
            for folder in sorted(p for p in clinics.iterdir() if p.is_dir()):
                self._build_folder(clinic_collection_name(folder.name), folder, force)
        return report

    def ensure_built(self) -> None:
        self.build(force=False)

    def add_documents(self, paths: list[Path | str], clinic: str = "default") -> BuildReport:
        """Add clinician files (Markdown with front matter, or plain text) to a clinic.

        All files are checked first; if any cannot be used, nothing is added and
        ``InputError`` lists every bad file.
        """
        name = clinic_collection_name(clinic)
        if not paths:
            raise InputError("Give at least one file to add.")
        docs, errors = [], []
        for raw in paths:
            path = Path(raw)
            if not path.is_file():
                errors.append(f"{path}: no such file.")
                continue
            try:
                if path.suffix.lower() == ".md" and path.read_text(encoding="utf-8").lstrip().startswith("---"):
                    docs.append(load_document(path))
                elif path.suffix.lower() in (".md", ".txt", ".text", ""):
                    docs.append(load_plain_text(path, clinic))
                else:
                    errors.append(f"{path.name}: only Markdown (.md) or plain text (.txt) files can be added.")
            except (InputError, UnicodeDecodeError) as exc:
                errors.append(str(exc))
        if errors:
            raise InputError("Nothing was added. " + " ".join(errors))
        folder = self.clinic_dir(clinic)
        folder.mkdir(parents=True, exist_ok=True)
        for doc in docs:
            text = doc.to_markdown()
            parse_document(text, doc.path)  # the stored copy must read back
            (folder / f"{doc.id}.md").write_text(text, encoding="utf-8")
        return self._build_folder(name, folder, force=False)

    def reset_client(self) -> None:
        """Forget the client (tests, and after the folder was changed underneath)."""
        with self._lock:
            self._client = None
