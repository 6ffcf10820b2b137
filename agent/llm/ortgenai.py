"""The default embedded engine: ONNX Runtime GenAI with int8 weights, no PyTorch at run time.

Chosen on the 2-core machine (2026-12-03, ``attune bench --only engine``; the
README has the numbers): on SmolLM2-135M int8 decodes at about 0.9x llama.cpp's
speed on the same model, where CTranslate2 int8 and transformers bfloat16 reached
about 0.3x; prebuilt wheels, no compiler. int4 was faster still (1.3x) but its
words were worse where it matters: "my mum moved into a care home and the house
is so quiet" came back as "feeling low on energy and homesick after a long day
at work", a reason the person never gave, where int8, CTranslate2 and
transformers all reflected the person's own words. The model is converted once
by the ONNX Runtime GenAI model builder (in a child process: it needs torch and
about 1.7 GB for 25 s) from the dequantised copy into
``<models_dir>/<model>-ortgenai-int8-<tag>``; later starts load only that folder.

Requests from concurrent sessions that arrive together share one generator (up to
eight rows). Prompts of different lengths are padded on the right with the pad id,
as the engine's own ``Tokenizer.encode_batch`` pads; measured 2026-12-03, every row
then gets word for word the reply its prompt gets alone (left padding, tried first,
changed the padded rows' words). Each person's words stream back through their own
queue; a consumer that stops reading ends its request at the next token.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

from attune.common.errors import ModelUnavailable
from .embedded import EngineChatModel, Request, cached_engine, chat_template, converted_dir, hf_folder, stream_request

__all__ = ["OrtGenAIChatModel", "Engine", "engine_dir", "load_engine", "PRECISION"]

PRECISION = "int8"  # the builder's CPU precisions: int4, int8 (chosen, see above), fp32
MAX_BATCH = 8
BATCH_WINDOW_S = 0.015  # how long a request waits for others to join when the engine is idle
SOLO_LENGTH = 1024  # tokens the kept generator holds (prompt and reply); a longer prompt gets a generator of its own
REUSE_SHARE = 0.5  # requests whose prompts begin with this share of the kept sequence go one by one through it
REPETITION_PENALTY = 1.1  # as the other engines
CONVERT_TIMEOUT_S = 900

def engine_dir(model_path: Path | None, models_dir: Path) -> Path:
    """Where the converted model lives."""
    return converted_dir(model_path, models_dir, f"ortgenai-{PRECISION}")


def convert(model_path: Path | None, models_dir: Path) -> Path:
    """Convert the model once with the ONNX Runtime GenAI builder; returns the model folder."""
    target = engine_dir(model_path, models_dir)
    if (target / "genai_config.json").exists():
        return target
    hf = hf_folder(model_path, models_dir)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    cache = target.with_name(f"{target.name}.cache{os.getpid()}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf), "-o", str(tmp),
               "-p", PRECISION, "-e", "cpu", "-c", str(cache)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, env=env)
        if done.returncode != 0 or not (tmp / "genai_config.json").exists():
            raise ModelUnavailable("The model could not be converted for ONNX Runtime GenAI: "
                                   f"{(done.stderr or done.stdout).strip()[-400:]}")
        tmp.rename(target)
    except subprocess.TimeoutExpired:
        raise ModelUnavailable(f"Converting the model took over {CONVERT_TIMEOUT_S} s; set ATTUNE_LLM=transformers "
                               "to use the model without converting it.") from None
    except OSError:
        if not (target / "genai_config.json").exists():  # another process won the race: use its copy
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
    return target


class Engine:
    """One loaded model: tokenizer, chat template and an ONNX Runtime GenAI model behind a batching queue."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime_genai as og

        self.og = og
        self.folder = folder
        cores = threads or max(1, os.cpu_count() or 1)
        config = og.Config(str(folder))
        config.overlay(json.dumps({"model": {"decoder": {"session_options": {
            "intra_op_num_threads": cores, "inter_op_num_threads": 1}}}}))
        self.model = og.Model(config)
        self.tokenizer = og.Tokenizer(self.model)
        self.template, self.specials = chat_template(folder)
        genai = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))["model"]
        eos = genai.get("eos_token_id", [])
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])
        self.pad_id = int(genai.get("pad_token_id", next(iter(self.eos_ids))))
        self._solo = None  # the kept generator (batch of one) and the tokens it holds: prompts that begin alike
        self._solo_tokens: list[int] = []  # skip the prefill of what they share ("rewind_to"), the costly part here
        self._requests: "queue.Queue[Request]" = queue.Queue()
        self._worker = threading.Thread(target=self._serve, name="attune-ortgenai", daemon=True)
        self._worker.start()

    # -- prompts and text

    def prompt_ids(self, chat: list[dict[str, str]], prefill: str = "") -> list[int]:
        text = self.template.render(messages=chat, add_generation_prompt=True, **self.specials) + prefill
        return [int(i) for i in self.tokenizer.encode(text)]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def stream(self, ids: list[int], max_new: int) -> Iterator[str]:
        """Text pieces as the model writes them (greedy); closing the iterator stops this request."""
        return stream_request(self._requests, Request(list(ids), max_new), self.decode)

    # -- the batching worker

    def _serve(self) -> None:
        waiting: list[Request] = []
        while True:
            if not waiting:
                waiting.append(self._requests.get())
            try:  # others that arrive within the window join the batch
                while len(waiting) < 4 * MAX_BATCH:
                    waiting.append(self._requests.get(timeout=BATCH_WINDOW_S))
            except queue.Empty:
                pass
            batch = waiting[:MAX_BATCH]
            waiting = [r for r in waiting if r not in batch]
            live = [r for r in batch if not r.halt.is_set()]
            for r in batch:
                if r not in live:
                    r.out.put(None)
            if not live:
                continue
            live = self._coalesce(live)
            groups = [[r] for r in live] if len(live) == 1 or all(self._reusable(r) for r in live) else [live]
            for group in groups:
                try:
                    self._generate_solo(group[0]) if len(group) == 1 else self._generate(group)
                except Exception as exc:  # noqa: BLE001 - handed to each waiting consumer
                    self._solo, self._solo_tokens = None, []
                    for r in group:
                        if not r.finished:
                            for reader in (r, *r.twins):
                                reader.out.put(exc)
                for r in group:
                    for reader in (r, *r.twins):
                        reader.out.put(None)

    @staticmethod
    def _coalesce(live: list[Request]) -> list[Request]:
        """One generation per distinct prompt: a request asking what another in the round asks reads its tokens.

        Batches of different shapes may break a near tie differently (floating-point sums), so two people with
        the same prompt at once could get different greedy replies; sharing one generation gives them the same
        reply for the cost of one."""
        leaders: dict[tuple, Request] = {}
        for r in live:
            key = (tuple(r.prompt), r.max_new)
            if key in leaders:
                leaders[key].twins.append(r)
            else:
                leaders[key] = r
        return list(leaders.values())

    def _shared(self, prompt: list[int]) -> int:
        """How many leading tokens ``prompt`` shares with the kept generator's sequence (at most all but one)."""
        held, n = self._solo_tokens, 0
        limit = min(len(prompt) - 1, len(held))
        while n < limit and prompt[n] == held[n]:
            n += 1
        return n

    def _reusable(self, r: Request) -> bool:
        """Whether ``r`` is served faster alone through the kept generator than in a batch.

        On 2 cores the prompt's prefill is most of a reply's cost and grows with the rows of a batch: four
        prompts of 227 tokens took 1.27 s together; one whose first 174 tokens were already held took 0.15-0.2 s
        (2026-12-07)."""
        return len(r.prompt) + r.max_new < SOLO_LENGTH and self._shared(r.prompt) >= REUSE_SHARE * len(r.prompt)

    def _generate_solo(self, r: Request) -> None:
        """Greedy generation for one request through the kept generator, rewound to what the prompt shares."""
        og = self.og
        import numpy as np

        if len(r.prompt) + r.max_new >= SOLO_LENGTH:
            return self._generate([r])
        shared = self._shared(r.prompt) if self._solo is not None else 0
        if shared == 0:  # nothing to keep: a new generator (rewinding cuts the sequence, so length never runs out)
            params = og.GeneratorParams(self.model)
            params.set_search_options(do_sample=False, top_k=1, max_length=SOLO_LENGTH,
                                      repetition_penalty=REPETITION_PENALTY, batch_size=1)
            self._solo, self._solo_tokens = og.Generator(self.model, params), []
        generator = self._solo
        if shared:
            generator.rewind_to(shared)
        self._solo_tokens = list(r.prompt)
        generator.append_tokens(np.array(r.prompt[shared:], dtype=np.int32))
        while not r.finished and not generator.is_done():
            generator.generate_next_token()
            token = int(generator.get_next_tokens()[0])
            self._solo_tokens.append(token)
            self._hand(r, token)

    def _hand(self, r: Request, token: int) -> None:
        """Give ``token`` to its readers, or end the request at the end of its reply, its length or its readers."""
        readers = [x for x in (r, *r.twins) if not x.halt.is_set()]
        if token in self.eos_ids or not readers:
            r.finished = True
            return
        r.produced += 1
        for reader in readers:
            reader.out.put(token)
        if r.produced >= r.max_new:
            r.finished = True

    def _generate(self, rows: list[Request]) -> None:
        """One greedy generator over the rows (prompts right-padded); each row's tokens go to its queue."""
        og = self.og
        import numpy as np

        width = max(len(r.prompt) for r in rows)
        # padded on the right with the pad id, as the engine's own ``Tokenizer.encode_batch`` does
        tokens = np.array([r.prompt + [self.pad_id] * (width - len(r.prompt)) for r in rows], dtype=np.int32)
        params = og.GeneratorParams(self.model)
        params.set_search_options(do_sample=False, top_k=1, max_length=width + max(r.max_new for r in rows),
                                  repetition_penalty=REPETITION_PENALTY, batch_size=len(rows))
        generator = og.Generator(self.model, params)
        generator.append_tokens(tokens if len(rows) > 1 else tokens[0])
        while not generator.is_done():
            generator.generate_next_token()
            step = generator.get_next_tokens()
            for r, token in zip(rows, step):
                if not r.finished:
                    self._hand(r, int(token))
            if all(r.finished for r in rows):
                break


def load_engine(model_path: Path | None, models_dir: Path) -> Engine:
    """The engine for this model, converted on first use and loaded once per process."""
    return cached_engine(convert(model_path, models_dir), Engine)


class OrtGenAIChatModel(EngineChatModel):
    """A LangChain chat model over the ONNX Runtime GenAI engine (greedy: the guided protocol wants the same
    words for the same frame)."""

    engine_name = "onnxruntime-genai"

    def load(self) -> Engine:
        return load_engine(self.model_path, self.models_dir)

    def pieces(self, engine: Engine, chat: list[dict[str, str]], prefill: str, max_new: int) -> Iterator[str]:
        return engine.stream(engine.prompt_ids(chat, prefill), max_new)
