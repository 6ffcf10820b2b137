"""A session survives the process being killed: it resumes exactly where it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.cli_helpers import ATTUNE, run_attune

SCRIPTED = {"ATTUNE_LLM": "scripted"}


def test_session_resumes_after_the_process_is_killed(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env.update({"ATTUNE_DATA_DIR": str(tmp_path), "ATTUNE_LLM": "scripted"})
    chat = subprocess.Popen([ATTUNE, "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    for line in (b"I'm stressed about work and can't relax\n", b"yes\n", b"my boss keeps adding deadlines\n",
                 b"I can't switch off at night\n"):
        chat.stdin.write(line)
        chat.stdin.flush()
    # wait until the fourth reply has been stored, then kill the process without warning
    deadline = time.monotonic() + 120
    out = b""
    while time.monotonic() < deadline and out.count(b"attune>") < 4:
        out += os.read(chat.stdout.fileno(), 65536)
    time.sleep(0.5)
    chat.send_signal(signal.SIGKILL)
    chat.wait(timeout=30)
    assert out.count(b"attune>") >= 4, out.decode()

    from attune.agent.config import load_settings
    from attune.agent.store import open_store

    store = open_store(load_settings(data_dir=tmp_path))
    session = store.list_sessions("test")[0]
    state = store.session(session["id"], session["patient_id"])["state"]
    assert state["turns"] == 4 and state["consent_store"] is True
    store.close()

    # a new process continues the same session: the protocol remembers where it was
    steps = []
    for text in ("it has been like this for weeks", "yes please"):
        result = run_attune(["ask", text, "--session", session["id"]], tmp_path, env=SCRIPTED)
        assert result.returncode == 0, result.stderr.decode()
        steps.append(json.loads(result.stdout))
    assert steps[0]["session"] == session["id"]
    assert [s["music"] is not None for s in steps] == [False, True]  # offered, then composed on "yes"
