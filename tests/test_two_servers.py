"""Two `attune serve` processes on one PostgreSQL database, hammered on the same session: nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from attune.agent import local_server
from tests.pg import postgres_server
from tests.ui_helpers import free_port

TURNS_EACH = 6
RATINGS = 6
READINGS = 6


def _serve(data_dir: Path, env: dict) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)
    full = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    full.update(env, ATTUNE_DATA_DIR=str(data_dir), ATTUNE_PORT=str(free_port()), ATTUNE_LLM="scripted",
                HF_HUB_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-m", "attune.agent.cli", "serve"], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(data_dir: Path, proc: subprocess.Popen, timeout: float = 240) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"attune serve ended: {proc.stderr.read().decode()[-2000:]}")
        if local_server.server_file(data_dir).exists():
            return
        time.sleep(0.5)
    raise AssertionError("attune serve did not start")


@pytest.mark.slow
def test_two_servers_on_one_session_lose_no_turn_rating_or_reading(tmp_path):
    from cryptography.fernet import Fernet

    from attune.agent import service
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext

    with postgres_server() as url:
        key = Fernet.generate_key().decode()
        env = {"ATTUNE_DATABASE_URL": url, "ATTUNE_KEY": key}
        dirs = [tmp_path / "a", tmp_path / "b"]
        servers = [_serve(d, env) for d in dirs]
        try:
            for d, p in zip(dirs, servers):
                _wait_for(d, p)
            first = local_server.post_turn(dirs[0], {"message": "hello", "session": None, "patient": "pat-7"},
                                           None, 600)
            assert first is not None, [p.stderr.read1().decode()[-2000:] for p in servers if p.poll() is not None]
            session = first["session"]
            errors: list[str] = []

            def client(data_dir: Path, name: str) -> None:
                for i in range(TURNS_EACH):
                    try:
                        local_server.post_turn(data_dir, {"message": f"{name} message {i}: the week was long",
                                                          "session": session, "patient": "pat-7"}, None, 600)
                    except Exception as exc:  # noqa: BLE001 - collected and asserted below
                        errors.append(f"{name}: {exc}")

            # a third writer, as the page's rating and heart-rate buttons are, on the same database
            ctx = AppContext.create(load_settings(data_dir=tmp_path / "c", database_url=url, key=key, llm="scripted"))
            ref = ctx.resume_session(session, "pat-7")

            def rater() -> None:
                for i in range(max(RATINGS, READINGS)):
                    if i < RATINGS:
                        service.rate(ctx, ref, "post", suds=i % 10)
                    if i < READINGS:
                        service.add_heart_rate(ctx, ref, 60 + i)

            threads = [threading.Thread(target=client, args=(dirs[0], "one")),
                       threading.Thread(target=client, args=(dirs[1], "two")),
                       threading.Thread(target=rater)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=600)
            assert not errors, errors

            stored = ctx.store.session(session, ref.patient_id)
            state = stored["state"]
            turns = ctx.store.turns(session, ref.patient_id)
            patient_lines = [t["content"] for t in turns if t["role"] == "patient"]
            assert len(patient_lines) == 1 + 2 * TURNS_EACH, "a patient message was lost"
            assert state["turns"] == 1 + 2 * TURNS_EACH, "a turn's update of the session state was lost"
            assert len(state.get("self_reports", [])) == RATINGS, "a rating was lost from the session state"
            assert len(ctx.store.ratings(ref.patient_id, session)) == RATINGS
            heart = [r for r in state.get("readings", []) if r["source"] == "heart"]
            assert len(heart) == READINGS, "a heart-rate reading was lost from the session state"
            assert stored["revision"] >= 1 + 2 * TURNS_EACH + RATINGS + READINGS
            ctx.store.close()
        finally:
            for p in servers:
                p.terminate()
            for p in servers:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        for d in dirs:
            assert not local_server.server_file(d).exists(), "a stopped server leaves no serve.json behind"
