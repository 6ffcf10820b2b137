"""`attune ask` and `attune chat` use a running `attune serve` on the same data folder, safely."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from attune.agent import local_server
from tests.cli_helpers import run_attune
from tests.ui_helpers import echo_backend, running_app

SCRIPTED = {"ATTUNE_LLM": "scripted"}


@contextmanager
def serving(data_dir: Path):
    """The web app with the local turn route, as `attune serve` runs it (echo model, so replies are known)."""
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext
    from attune.ui.app import attach_local_turns, build_app, launch_kwargs
    from tests.ui_helpers import free_port

    settings = load_settings(data_dir=data_dir, llm="scripted")
    ctx = AppContext.create(settings, backend=echo_backend())
    app = build_app(ctx)
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                           quiet=True, **launch_kwargs(settings))
    token = local_server.new_token()
    attach_local_turns(app, ctx, token)
    local_server.announce(data_dir, url, settings.profile, token)
    try:
        yield ctx, url.rstrip("/"), token
    finally:
        local_server.withdraw(data_dir)
        app.close()
        ctx.store.close()


def test_ask_is_answered_by_the_running_server(tmp_path):
    with serving(tmp_path) as (ctx, _, _):
        assert oct(os.stat(local_server.server_file(tmp_path)).st_mode & 0o777) == "0o600"
        out = run_attune(["ask", "I had a rough day at the bakery"], tmp_path, env=SCRIPTED)
        assert out.returncode == 0, out.stderr.decode()
        assert "answered by the running attune serve" in out.stderr.decode()
        result = json.loads(out.stdout)
        assert set(result) == {"reply", "action", "mood", "music", "sources", "session"}
        # the server's process stored the turn: it is in the shared database, in that session
        patient = ctx.store.patient_for_code("local-user", create=False)
        texts = [t["content"] for t in ctx.store.turns(result["session"], patient, actor="test")]
        assert "I had a rough day at the bakery" in texts
        again = run_attune(["ask", "it was the early shift", "--session", result["session"]], tmp_path, env=SCRIPTED)
        assert json.loads(again.stdout)["session"] == result["session"]


def test_a_bad_message_is_refused_by_the_server_with_the_same_error(tmp_path):
    with serving(tmp_path):
        out = run_attune(["ask", "   "], tmp_path, env=SCRIPTED)
        assert out.returncode == 2 and "empty" in out.stderr.decode() and out.stdout == b""


def test_requests_without_the_token_are_refused(tmp_path):
    with serving(tmp_path) as (_, url, _):
        body = json.dumps({"message": "hello", "patient": "local-user"}).encode()
        for headers in ({}, {local_server.TOKEN_HEADER: "guessed"}):
            request = urllib.request.Request(url + local_server.ROUTE, data=body, method="POST", headers=headers)
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(request, timeout=30)
            assert err.value.code == 403


def test_without_a_live_server_the_command_runs_the_turn_itself(tmp_path):
    # a server file left behind by a process that is gone
    local_server.server_file(tmp_path).write_text(json.dumps(
        {"url": "http://127.0.0.1:9", "pid": 2 ** 22 + 12345, "token": "x", "profile": "default"}))
    out = run_attune(["ask", "hello"], tmp_path, env=SCRIPTED)
    assert out.returncode == 0, out.stderr.decode()
    assert "running attune serve" not in out.stderr.decode()
    assert json.loads(out.stdout)["reply"]


def test_local_runs_here_even_with_a_server_up(tmp_path):
    with serving(tmp_path):
        out = run_attune(["ask", "--local", "hello"], tmp_path, env=SCRIPTED)
        assert out.returncode == 0 and "running attune serve" not in out.stderr.decode()


def test_chat_lines_go_to_the_server(tmp_path):
    with serving(tmp_path):
        out = run_attune(["chat"], tmp_path, stdin=b"hello\nI feel tense about the week\n", env=SCRIPTED)
        assert out.returncode == 0, out.stderr.decode()
        assert "answered by the running attune serve" in out.stderr.decode()
        assert out.stdout.decode().count("attune> ") == 2
        assert json.loads(out.stderr.decode().strip().splitlines()[-1])["session"]
