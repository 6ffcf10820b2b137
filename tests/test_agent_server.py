"""Agent mode against a real OpenAI-compatible server: llama.cpp's server on the embedded GGUF.

The test starts ``python -m llama_cpp.server`` itself (installed by ``make test``, the
``llamacpp-server`` extra), points Attune at it with ``ATTUNE_LLM=openai`` and
``ATTUNE_AGENT=tools``, and sends a music request. The server has to carry the tool call:
the chat format ``chatml-function-calling`` turns the tool list into a grammar the model
fills in, and the turn must reach ``compose_music`` and leave the rendered audio on disk.
Whatever the 135M model writes afterwards is checked like any model's words.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ui_helpers import free_port, stop_process

pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is installed by `make test`")


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"llama_cpp.server ended: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as r:  # noqa: S310 - our own local server
                if json.load(r).get("data"):
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("llama_cpp.server did not start")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    from attune.agent.llm.local import default_model_file

    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"  # a file: the loader's log would fill a pipe and stall it
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_file()),
                                 "--chat_format", "chatml-function-calling", "--host", "127.0.0.1",
                                 "--port", str(port), "--n_ctx", "4096"],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for_server(url, proc, log)
        yield url
    finally:
        stop_process(proc, 20)


@pytest.mark.slow
@pytest.mark.real_model
def test_a_music_request_reaches_compose_music_through_the_server(tmp_path, llama_server):
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext
    from attune.agent.events import ToolCalled, ToolResult
    from attune.agent.turn import run_turn

    settings = load_settings(data_dir=tmp_path / "data", llm="openai", agent="tools",
                             openai_base_url=llama_server, llm_timeout=120)
    ctx = AppContext.create(settings)
    try:
        assert ctx.backend.supports_tools
        ref = ctx.start_session("patient-server")
        events = list(run_turn(ctx, ref, "Could you play me something calm? I'm a bit wound up after work."))
        done = events[-1]
        called = [e for e in events if isinstance(e, ToolCalled)]
        assert [e.name for e in called][:1] == ["compose_music"]
        result = next(e for e in events if isinstance(e, ToolResult) and e.name == "compose_music")
        assert "piece_id" in result.result, result.result  # the model's arguments passed the registry's checks
        wav = Path(done.music["wav"])
        assert wav.is_file() and wav.stat().st_size > 100_000  # seconds of rendered 44.1 kHz audio
        assert done.music["piece_id"] == result.result["piece_id"]
        assert done.reply and "{" not in done.reply  # the model's words, or code's if they failed a check
    finally:
        ctx.store.close()
