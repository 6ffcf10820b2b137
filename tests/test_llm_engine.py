"""The embedded engines (ONNX Runtime GenAI, the default; CTranslate2): the prompt transformers builds,
words streamed without special tokens, people generating at once kept apart."""

from __future__ import annotations

import threading

import pytest

from attune.agent.config import load_settings
from attune.agent.llm import make_backend

pytestmark = [pytest.mark.real_model, pytest.mark.slow]

CHAT = [{"role": "system", "content": "You are a warm, brief listener."},
        {"role": "user", "content": "I've had a really stressful week and I can't sleep"}]


class _Uniform:
    """One face for both engines: ``prompt(chat, prefill)`` and ``stream(prompt, n)``."""

    def __init__(self, name: str, settings) -> None:
        if name == "ctranslate2":
            from attune.agent.llm.ct2 import load_engine

            self.engine = load_engine(settings.model_path, settings.models_dir)
            self.prompt = self.engine.prompt_tokens
            self.ids = lambda prompt: [self.engine.tokenizer.token_to_id(t) for t in prompt]
        else:
            from attune.agent.llm.ortgenai import load_engine

            self.engine = load_engine(settings.model_path, settings.models_dir)
            self.prompt = self.engine.prompt_ids
            self.ids = list
        self.folder = self.engine.folder
        self.stream = self.engine.stream


@pytest.fixture(scope="module", params=["onnxruntime-genai", "ctranslate2"])
def engine(request, tmp_path_factory):
    return _Uniform(request.param, load_settings(data_dir=tmp_path_factory.mktemp("engine")))


def test_the_default_backend_is_the_onnxruntime_genai_engine(tmp_path):
    backend = make_backend(load_settings(data_dir=tmp_path))
    assert backend.name == "local" and backend.options["engine"] == "onnxruntime-genai"
    assert make_backend(load_settings(data_dir=tmp_path, llm="ctranslate2")).options["engine"] == "ctranslate2"
    assert make_backend(load_settings(data_dir=tmp_path, llm="transformers")).options["engine"] == "transformers"


def test_the_prompt_is_the_one_transformers_builds(engine):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(engine.folder))
    text = tokenizer.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True) + "It sounds like"
    assert engine.ids(engine.prompt(CHAT, "It sounds like")) == tokenizer(text)["input_ids"]


def test_a_reply_streams_in_words_without_special_tokens(engine):
    pieces = list(engine.stream(engine.prompt(CHAT, "It sounds like"), 32))
    text = "".join(pieces)
    assert len(pieces) > 3 and len(text.split()) >= 5
    assert "<|im_end|>" not in text and "<|im_start|>" not in text and "\ufffd" not in text


def test_people_generating_at_once_each_get_their_own_reply(engine):
    """Requests batched together: each person's words reach that person only, as a lone request would."""
    messages = ["my sister visited and we cooked all afternoon",
                "the rent went up again and I don't know how to pay it",
                "I finished the painting I started in spring"]
    prompts = [engine.prompt([{"role": "user", "content": m}]) for m in messages]
    alone = ["".join(engine.stream(p, 24)) for p in prompts]
    together: dict[int, str] = {}
    barrier = threading.Barrier(len(prompts) * 2)

    def run(i: int) -> None:
        barrier.wait()
        together[i] = "".join(engine.stream(prompts[i % len(prompts)], 24))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prompts) * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(together) == len(threads)
    for i, text in together.items():
        assert text.strip(), f"request {i} got nothing"
        # a shorter prompt may be padded in a batch, so its wording may differ from alone a little;
        # it must never be another person's reply
        others = [alone[j] for j in range(len(prompts)) if j != i % len(prompts)]
        assert all(text[:40] != o[:40] for o in others), f"request {i} got another person's reply"
    same = [together[i] == together[i + len(prompts)] for i in range(len(prompts))]
    assert all(same), "two requests with the same prompt at once must get the same greedy reply"


def test_a_reader_who_stops_early_frees_the_engine(engine):
    prompt = engine.prompt(CHAT)
    stream = engine.stream(prompt, 200)
    next(stream)
    stream.close()
    after = "".join(engine.stream(prompt, 8))
    assert after.strip()


def test_onnxruntime_two_people_asking_the_same_at_once_read_one_generation_and_one_may_stop(tmp_path):
    """The same prompt twice in one round is generated once; the one who stops early does not stop the other."""
    from attune.agent.llm.ortgenai import load_engine

    settings = load_settings(data_dir=tmp_path)
    engine = load_engine(settings.model_path, settings.models_dir)
    prompt = engine.prompt_ids(CHAT, "It sounds like")
    rounds: list[int] = []
    coalesce = engine._coalesce
    engine._coalesce = lambda live: (rounds.append(len(live)), coalesce(live))[1]
    barrier = threading.Barrier(2)
    full: list[str] = []
    first: list[str] = []

    def stopper() -> None:
        barrier.wait()
        stream = engine.stream(prompt, 24)
        first.append(next(stream))
        stream.close()

    def reader() -> None:
        barrier.wait()
        full.append("".join(engine.stream(prompt, 24)))

    threads = [threading.Thread(target=stopper), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert rounds == [2]  # both in one round, generated once
    assert full[0].startswith(first[0]) and len(full[0].split()) >= 10


def test_onnxruntime_batches_prompts_of_any_length_with_the_words_of_a_lone_request(tmp_path, monkeypatch):
    """Eight people at once share one generator (right-padded as the engine's own encode_batch pads),
    and each gets word for word the reply their prompt gets alone."""
    from attune.agent.llm.ortgenai import load_engine

    settings = load_settings(data_dir=tmp_path)
    engine = load_engine(settings.model_path, settings.models_dir)
    messages = ["hi", "my dog died last month and I still set out two bowls", "ok",
                "I had a really stressful week, my manager keeps piling work on me and I can't sleep",
                "play something calm please", "exam on friday and my brain is fried",
                "my mum moved into a care home and the house is so quiet", "the garden was lovely tonight"]
    prompts = [engine.prompt_ids([{"role": "user", "content": m}], "It sounds like you're feeling") for m in messages]
    assert len({len(p) for p in prompts}) > 4  # lengths differ
    alone = ["".join(engine.stream(p, 24)) for p in prompts]
    sizes: list[int] = []
    generate = engine._generate
    monkeypatch.setattr(engine, "_generate", lambda rows: (sizes.append(len(rows)), generate(rows))[1])
    together: dict[int, str] = {}
    barrier = threading.Barrier(len(prompts))

    def run(i: int) -> None:
        barrier.wait()
        together[i] = "".join(engine.stream(prompts[i], 24))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert [together.get(i) for i in range(len(prompts))] == alone
    assert max(sizes) > 1 and len(sizes) < len(prompts)  # they really shared generators


def test_a_prompt_that_begins_like_the_last_one_reuses_its_prefill_with_the_same_words(tmp_path, monkeypatch):
    """The kept generator rewinds to what two prompts share and reads only the rest; the reply is word for word
    the one a fresh generator gives."""
    from attune.agent.llm.ortgenai import load_engine

    settings = load_settings(data_dir=tmp_path)
    engine = load_engine(settings.model_path, settings.models_dir)
    system = {"role": "system", "content": "You are a warm, brief listener. Reply with one short sentence that "
                                           "reflects what the person said, in your own words."}
    first, second = (engine.prompt_ids([system, {"role": "user", "content": m}], "It sounds like")
                     for m in ("my dog died last month and the house feels empty",
                               "my sister called and that helped a little"))
    fresh = []
    generate = engine._generate
    monkeypatch.setattr(engine, "_generate", lambda rows: (fresh.append(len(rows)), generate(rows))[1])
    engine._solo, engine._solo_tokens = None, []
    "".join(engine.stream(first, 24))
    shared = engine._shared(second)
    assert shared >= len(second) // 2  # the system prompt and the template's opening
    reused = "".join(engine.stream(second, 24))
    assert not fresh  # both went through the kept generator
    engine._solo, engine._solo_tokens = None, []
    alone = "".join(engine.stream(second, 24))  # a new generator reading the whole prompt
    assert reused == alone and reused.strip()
