"""What the embedded engines share: converted model folders, the chat template, requests, streamed text.

``ct2`` (CTranslate2) and ``ortgenai`` (ONNX Runtime GenAI, the default) each
convert the model once from a Hugging Face folder (the dequantised copy of the
GGUF file that ``local`` also uses), load it once per process, render the
model's own chat template with jinja2 as transformers does, queue requests for
one generation thread, and turn the token ids it hands back into text pieces.
``EngineChatModel`` is the LangChain face of either.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import ConfigDict

from attune.common.errors import ModelUnavailable
from . import guard
from .base import StreamedChatModel, as_chat, until_stop

__all__ = ["hf_folder", "converted_dir", "chat_template", "text_pieces", "Request", "stream_request",
           "cached_engine", "EngineChatModel"]

_engines: dict[str, Any] = {}
_engines_lock = threading.Lock()


def hf_folder(model_path: Path | None, models_dir: Path) -> Path:
    """A Hugging Face folder of the model: the configured one, or the dequantised copy of a GGUF file."""
    from .local import _converted_dir, default_model_file, load_local

    source = Path(model_path) if model_path else default_model_file()
    if source.is_dir():
        return source
    folder = _converted_dir(source, "bfloat16", models_dir)
    if not (folder / "config.json").exists():
        load_local(source, "bfloat16", models_dir)  # writes the dequantised copy once
    return folder


def converted_dir(model_path: Path | None, models_dir: Path, label: str) -> Path:
    """Where an engine's converted copy of the model lives (the name changes when the source file does)."""
    from .local import default_model_file

    source = Path(model_path) if model_path else default_model_file()
    if not source.exists():
        raise ModelUnavailable(f"The model path {source} (ATTUNE_MODEL_PATH) does not exist.")
    stat = source.stat()
    tag = hashlib.sha256(f"{source.resolve()}:{stat.st_size}:{int(stat.st_mtime)}:{label}".encode()).hexdigest()[:12]
    return models_dir / f"{source.stem}-{label}-{tag}"


def chat_template(folder: Path) -> tuple[Any, dict[str, Any]]:
    """(compiled template, special tokens) from the model folder, rendered as transformers renders it."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    template = config.get("chat_template")
    if not template and (folder / "chat_template.jinja").exists():
        template = (folder / "chat_template.jinja").read_text(encoding="utf-8")
    if not template:
        raise ModelUnavailable(f"The model in {folder} has no chat template.")
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template), {k: config.get(k) for k in ("bos_token", "eos_token")}


def text_pieces(out: "queue.Queue", decode: Callable[[list[int]], str]) -> Iterator[str]:
    """Text pieces from the token ids put on ``out`` (None ends, an exception is raised here)."""
    ids: list[int] = []
    shown = ""
    while True:
        item = out.get()
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        ids.append(item)
        text = decode(ids)
        if text.endswith("\ufffd"):  # half of a multi-byte character: wait for the rest
            continue
        if len(text) > len(shown) and text.startswith(shown):
            piece, shown = text[len(shown):], text
            yield piece
        elif text != shown:  # a merge changed earlier characters (rare): show the difference once
            shown = text


@dataclass
class Request:
    """One person's generation: the prompt (token strings or ids, as the engine takes them) and their queue."""

    prompt: list
    max_new: int
    temperature: float = 0.0
    out: "queue.Queue[int | BaseException | None]" = field(default_factory=queue.Queue)
    halt: threading.Event = field(default_factory=threading.Event)  # the consumer stopped reading
    produced: int = 0
    finished: bool = False
    twins: list["Request"] = field(default_factory=list)  # same prompt at the same moment: read one generation


def stream_request(requests: "queue.Queue[Request]", request: Request,
                   decode: Callable[[list[int]], str]) -> Iterator[str]:
    """Queue ``request`` for the engine's thread and yield its text; closing the iterator halts it."""
    requests.put(request)
    try:
        yield from text_pieces(request.out, decode)
    finally:
        request.halt.set()


def cached_engine(folder: Path, build: Callable[[Path], Any]) -> Any:
    """The engine loaded from ``folder``, once per process."""
    with _engines_lock:
        key = str(folder)
        if key not in _engines:
            try:
                _engines[key] = build(folder)
            except Exception as exc:  # noqa: BLE001 - each engine raises its own error types
                raise ModelUnavailable(f"The converted model in {folder} could not be loaded ({exc}); "
                                       "delete that folder to convert it again.") from None
        return _engines[key]


class EngineChatModel(StreamedChatModel):
    """A LangChain chat model over an embedded engine: ``load`` and ``pieces`` come from the engine's module."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    engine_name: ClassVar[str] = ""

    model_path: Path | None = None
    models_dir: Path
    max_new_tokens: int = 96
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return f"attune-{self.engine_name}"

    def load(self) -> Any:
        raise NotImplementedError

    def pieces(self, engine: Any, chat: list[dict[str, str]], prefill: str, max_new: int) -> Iterator[str]:
        raise NotImplementedError

    def _stream(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any
                ) -> Iterator[ChatGenerationChunk]:
        guard.check(self.engine_name)
        engine = self.load()
        max_new = int(kwargs.get("max_new_tokens") or self.max_new_tokens)
        pieces = self.pieces(engine, as_chat(messages), kwargs.get("prefill", ""), max_new)
        try:
            for text in until_stop(pieces, stop):
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        finally:
            pieces.close()
