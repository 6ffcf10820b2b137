"""An embedded engine (``ATTUNE_LLM=ctranslate2``): CTranslate2 with int8 weights, no PyTorch at run time.

CTranslate2 is an inference engine made for CPUs (prebuilt wheels, no
compiler). The embedded SmolLM2 is converted once into
``<models_dir>/<model>-ct2-int8-<tag>`` (from the dequantised copy that the
transformers engine also uses; this one step needs torch and takes a few
seconds), with its tokenizer and chat template beside it. Later starts load
only that folder: ``tokenizers`` for the word pieces, jinja2 for the chat
template, CTranslate2 for the maths. ``attune bench`` compares it with
transformers, ONNX Runtime GenAI (the default) and llama.cpp when installed; on this 135M model it
decoded no faster than transformers (2026-12-03), so it is not the default.

Requests from concurrent sessions are grouped: a request that arrives while
others wait joins them in one ``generate_batch`` call (up to ``MAX_BATCH``),
and each person's words stream back through their own queue. A consumer
that stops reading ends its row of the batch at the next token.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from pathlib import Path
from typing import Iterator

from attune.common.errors import ModelUnavailable
from .embedded import EngineChatModel, Request, cached_engine, chat_template, converted_dir, hf_folder, stream_request

__all__ = ["CT2ChatModel", "Engine", "engine_dir", "load_engine"]

QUANTIZATION = "int8"
MAX_BATCH = 8  # requests generated together
BATCH_WINDOW_S = 0.015  # how long a request waits for others to join its batch when the engine is idle
REPETITION_PENALTY = 1.1  # as the transformers engine
COPIED_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json")

def engine_dir(model_path: Path | None, models_dir: Path) -> Path:
    """Where the converted engine of this model lives."""
    return converted_dir(model_path, models_dir, f"ct2-{QUANTIZATION}")


def convert(model_path: Path | None, models_dir: Path) -> Path:
    """Convert the model for CTranslate2 once; returns the engine folder."""
    target = engine_dir(model_path, models_dir)
    if (target / "model.bin").exists():
        return target
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        raise ModelUnavailable("CTranslate2 is not installed: run `make install`, or set ATTUNE_LLM=local.") from None
    hf = hf_folder(model_path, models_dir)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    try:
        TransformersConverter(str(hf), copy_files=[f for f in COPIED_FILES if (hf / f).exists()],
                              load_as_float16=False).convert(str(tmp), quantization=QUANTIZATION, force=True)
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race, or a read-only folder
        if not (target / "model.bin").exists():
            raise
    except Exception as exc:  # noqa: BLE001 - the converter raises many kinds; say what failed
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelUnavailable(f"The model at {hf} could not be converted for CTranslate2: {exc}") from None
    return target


class Engine:
    """One loaded model: tokenizer, chat template and a CTranslate2 generator behind a batching queue."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import ctranslate2
        from tokenizers import Tokenizer

        self.folder = folder
        cores = threads or max(1, os.cpu_count() or 1)
        self.generator = ctranslate2.Generator(str(folder), device="cpu", compute_type=QUANTIZATION,
                                               intra_threads=cores, inter_threads=1)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.template, self.specials = chat_template(folder)
        self.eos = self.specials.get("eos_token") or "</s>"
        self.eos_id = self.tokenizer.token_to_id(self.eos)
        self._requests: "queue.Queue[Request]" = queue.Queue()
        self._worker = threading.Thread(target=self._serve, name="attune-ct2", daemon=True)
        self._worker.start()

    # -- prompts

    def prompt_tokens(self, chat: list[dict[str, str]], prefill: str = "") -> list[str]:
        text = self.template.render(messages=chat, add_generation_prompt=True, **self.specials) + prefill
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        return [self.tokenizer.id_to_token(i) for i in ids]

    # -- generation

    def stream(self, tokens: list[str], max_new: int, temperature: float = 0.0) -> Iterator[str]:
        """Text pieces as the model writes them; closing the iterator stops this request."""
        return stream_request(self._requests, Request(tokens, max_new, temperature),
                              lambda ids: self.tokenizer.decode(ids, skip_special_tokens=True))

    def _serve(self) -> None:
        while True:
            batch = [self._requests.get()]
            try:  # others that arrive within the window join; a busy engine gathers them meanwhile
                while len(batch) < MAX_BATCH:
                    batch.append(self._requests.get(timeout=BATCH_WINDOW_S))
            except queue.Empty:
                pass
            groups: dict[float, list[Request]] = {}
            for r in batch:
                groups.setdefault(r.temperature, []).append(r)
            for temperature, group in groups.items():
                self._generate(group, temperature)

    def _generate(self, group: list[Request], temperature: float) -> None:
        live = [r for r in group if not r.halt.is_set()]
        for r in group:
            if r not in live:
                r.out.put(None)
        if not live:
            return

        def on_token(step) -> bool:
            r = live[step.batch_id]
            if step.token_id != self.eos_id:
                r.produced += 1
                r.out.put(step.token_id)
            return r.halt.is_set() or r.produced >= r.max_new

        sampling = {"sampling_topk": 1} if temperature <= 0 else {
            "sampling_topk": 50, "sampling_topp": 0.9, "sampling_temperature": temperature}
        try:
            self.generator.generate_batch([r.prompt for r in live], max_length=max(r.max_new for r in live),
                                          end_token=self.eos, repetition_penalty=REPETITION_PENALTY,
                                          include_prompt_in_result=False, callback=on_token, **sampling)
        except Exception as exc:  # noqa: BLE001 - handed to each waiting consumer
            for r in live:
                r.out.put(exc)
        for r in live:
            r.out.put(None)


def load_engine(model_path: Path | None, models_dir: Path) -> Engine:
    """The engine for this model, converted on first use and loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return cached_engine(convert(model_path, models_dir), Engine)


class CT2ChatModel(EngineChatModel):
    """A LangChain chat model over the CTranslate2 engine."""

    engine_name = "ctranslate2"

    def load(self) -> Engine:
        return load_engine(self.model_path, self.models_dir)

    def pieces(self, engine: Engine, chat: list[dict[str, str]], prefill: str, max_new: int) -> Iterator[str]:
        return engine.stream(engine.prompt_tokens(chat, prefill), max_new, self.temperature)
