"""Eight patients at once through the running server (gradio_client): no errors, no mixed data."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ui_helpers import echo_backend, running_app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PATIENTS = 8


def _text(content) -> str:
    """Gradio 6 returns message content as a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def test_eight_simultaneous_sessions_stay_apart(tmp_path):
    from gradio_client import Client

    from attune.agent.config import load_settings
    from attune.agent.context import AppContext

    settings = load_settings(data_dir=tmp_path / "data", llm="scripted", gradio_concurrency=PATIENTS)
    ctx = AppContext.create(settings, backend=echo_backend(word_delay=0.02))

    def patient(n: int, url: str) -> list[dict]:
        client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
        history: list[dict] = []
        for text in (f"hello from patient-{n}", f"patient-{n} feels tense about the week ahead"):
            result = client.predict(text, history, api_name="/respond")
            history = result[1]
        client.close()
        return history

    with running_app(ctx) as url:
        with ThreadPoolExecutor(PATIENTS) as pool:
            histories = list(pool.map(lambda n: patient(n, url), range(PATIENTS)))

    for n, history in enumerate(histories):
        said = [_text(m["content"]) for m in history if m["role"] == "user"]
        assert said == [f"hello from patient-{n}", f"patient-{n} feels tense about the week ahead"]
        replies = [_text(m["content"]) for m in history if m["role"] == "assistant"]
        assert len(replies) >= 2 and all(r and "⚠" not in r for r in replies), replies
        others = [f"patient-{k}" for k in range(PATIENTS) if k != n]
        assert not any(o in json.dumps(history) for o in others), f"patient-{n} saw another patient's words"

    sessions = ctx.store.list_sessions("test")
    assert len(sessions) == PATIENTS  # one session per client, none shared
    assert len({s["patient_id"] for s in sessions}) == PATIENTS  # and each client its own patient
    owners = set()
    for s in sessions:
        words = [t["content"] for t in ctx.store.turns(s["id"], s["patient_id"]) if t["role"] == "patient"]
        markers = {w.split("patient-")[1].split()[0] for w in words}
        assert len(words) == 2 and len(markers) == 1, words
        owners |= markers
    assert owners == {str(n) for n in range(PATIENTS)}
    ctx.store.close()
