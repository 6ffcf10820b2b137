"""Engines side by side: the same model, prompts and greedy decoding on each engine present.

``attune bench --only engine`` runs it. Every engine gets the same chat
prompts (the model's own chat template), writes exactly ``NEW_TOKENS``
tokens (the end token is suppressed so each does equal work) and is timed
twice, the second run reported: first-token latency (the prompt read plus
one token) and decode speed (tokens after the first, per second). Engines:
ONNX Runtime GenAI int8 (the default), CTranslate2 int8, transformers (bfloat16), and llama.cpp on
the original GGUF file when ``llama-cpp-python`` is installed (it compiles
on install, so it is opt-in: ``pip install llama-cpp-python``).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

__all__ = ["engine_bench", "PROMPTS"]

NEW_TOKENS = 64
SYSTEM = "You are Attune, a warm and brief listener in a music-wellbeing app."
PROMPTS = [
    "I've had a really stressful week and I can't sleep",
    "the house feels so empty since my mum moved into care",
    "can you play something calm",
    "I feel flat and tired today",
    "thanks, that helped a bit",
]


def _chats() -> list[list[dict[str, str]]]:
    return [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": p}] for p in PROMPTS]


def _time(first: Callable[[], None], full: Callable[[], int]) -> tuple[float, float]:
    """(seconds to the first token, decode tokens per second) of one prompt."""
    start = time.perf_counter()
    first()
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    n = full()
    total = time.perf_counter() - start
    return first_s, (n - 1) / max(total - first_s, 1e-6)


def _ct2(settings) -> dict:
    from .ct2 import load_engine

    start = time.perf_counter()
    engine = load_engine(settings.model_path, settings.models_dir)
    load_s = time.perf_counter() - start

    def runner(tokens):
        def first():
            engine.generator.generate_batch([tokens], max_length=1, include_prompt_in_result=False,
                                            repetition_penalty=1.1)

        def full() -> int:
            out = engine.generator.generate_batch([tokens], max_length=NEW_TOKENS, min_length=NEW_TOKENS,
                                                  include_prompt_in_result=False, repetition_penalty=1.1)
            return len(out[0].sequences_ids[0])
        return first, full

    prompts = [engine.prompt_tokens(c) for c in _chats()]
    sample = "".join(engine.stream(prompts[0], 40))
    return _measure("ctranslate2-int8", load_s, [runner(p) for p in prompts], sample)


def _ortgenai(settings) -> dict:
    from .ortgenai import PRECISION, load_engine

    start = time.perf_counter()
    engine = load_engine(settings.model_path, settings.models_dir)
    load_s = time.perf_counter() - start
    og = engine.og

    def runner(ids):
        def gen(n: int) -> int:
            params = og.GeneratorParams(engine.model)
            params.set_search_options(do_sample=False, top_k=1, max_length=len(ids) + n, min_length=len(ids) + n,
                                      repetition_penalty=1.1)
            generator = og.Generator(engine.model, params)
            generator.append_tokens(ids)
            made = 0
            while not generator.is_done():
                generator.generate_next_token()
                made += 1
            return made
        return (lambda: gen(1)), (lambda: gen(NEW_TOKENS))

    prompts = [engine.prompt_ids(c) for c in _chats()]
    sample = "".join(engine.stream(prompts[0], 40))
    return _measure(f"onnxruntime-genai-{PRECISION}", load_s, [runner(p) for p in prompts], sample)


def _transformers(settings) -> dict:
    from .local import load_local

    start = time.perf_counter()
    model, tokenizer = load_local(settings.model_path, settings.llm_dtype, settings.models_dir)
    load_s = time.perf_counter() - start
    import torch

    def runner(chat):
        ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)

        def gen(n: int) -> int:
            with torch.inference_mode():
                out = model.generate(**ids, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                     repetition_penalty=1.1, pad_token_id=tokenizer.eos_token_id)
            return out.shape[1] - ids["input_ids"].shape[1]
        return (lambda: gen(1)), (lambda: gen(NEW_TOKENS))

    chat = _chats()[0]
    ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=40, do_sample=False, repetition_penalty=1.1,
                             pad_token_id=tokenizer.eos_token_id)
    sample = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    return _measure(f"transformers-{settings.llm_dtype}", load_s, [runner(c) for c in _chats()], sample)


def _llamacpp(settings, threads: int) -> dict | None:
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    from .local import default_model_file

    path = Path(settings.model_path) if settings.model_path and str(settings.model_path).endswith(".gguf") \
        else default_model_file()
    start = time.perf_counter()
    llm = Llama(model_path=str(path), n_ctx=2048, n_threads=threads, verbose=False)
    load_s = time.perf_counter() - start
    eos = llm.token_eos()

    def runner(chat):
        def gen(n: int) -> int:
            out = llm.create_chat_completion(messages=chat, max_tokens=n, temperature=0.0, top_k=1,
                                             repeat_penalty=1.1, logit_bias={eos: -1e9})
            return int(out["usage"]["completion_tokens"])
        return (lambda: gen(1)), (lambda: gen(NEW_TOKENS))

    out = llm.create_chat_completion(messages=_chats()[0], max_tokens=40, temperature=0.0, top_k=1,
                                     repeat_penalty=1.1)
    return _measure("llama.cpp-gguf", load_s, [runner(c) for c in _chats()], out["choices"][0]["message"]["content"])


def _measure(name: str, load_s: float, runners: list, sample: str) -> dict:
    runs = []
    for _ in range(2):  # the first pass warms caches; the second is reported
        runs = [_time(first, full) for first, full in runners]
    firsts = [r[0] for r in runs]
    rates = [r[1] for r in runs]
    return {"engine": name, "load_s": round(load_s, 2), "first_token_p50_s": round(statistics.median(firsts), 3),
            "decode_tokens_per_s": round(statistics.median(rates), 1), "sample_reply": sample.strip()[:160]}


def engine_bench(settings=None) -> dict:
    """Every engine present, measured in this one run; ratios are to llama.cpp and to transformers."""
    import os

    from ..config import load_settings

    settings = settings or load_settings()
    threads = max(1, os.cpu_count() or 1)
    rows = [_ortgenai(settings), _ct2(settings), _transformers(settings)]
    llama = _llamacpp(settings, threads)
    if llama:
        rows.append(llama)
    out: dict = {"new_tokens": NEW_TOKENS, "prompts": len(PROMPTS), "threads": threads, "engines": rows}
    default = rows[0]["decode_tokens_per_s"]
    out["default_vs_transformers"] = round(default / rows[2]["decode_tokens_per_s"], 2)
    if llama:
        out["default_vs_llamacpp"] = round(default / llama["decode_tokens_per_s"], 2)
    else:
        out["default_vs_llamacpp"] = None
        out["llamacpp"] = "not installed here (pip install llama-cpp-python compiles it, about 8 minutes)"
    out["goal"] = {"vs_llamacpp": 0.8, "first_token_p50_s": 0.3}
    return out
