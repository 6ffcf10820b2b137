"""What the embedded engines share: where converted models live, the chat template, streamed text.

``ct2`` (CTranslate2) and ``ortgenai`` (ONNX Runtime GenAI, the default) each
convert the model once from a Hugging Face folder (the dequantised copy of the
GGUF file that ``local`` also uses), render the model's own chat template with
jinja2 as transformers does, and turn the token ids a generation thread hands
over into text pieces.
"""

from __future__ import annotations

import hashlib
import json
import queue
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import ModelUnavailable

__all__ = ["hf_folder", "converted_dir", "chat_template", "text_pieces"]


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
