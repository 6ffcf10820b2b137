"""Shared fixtures: an isolated data folder, the scripted model, and Chromium for browser tests.

Real model requests fail in every test unless it is marked ``real_model``
(``attune.agent.llm.guard``); no test reads the developer's own settings.
"""

from __future__ import annotations

import os

import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"


@pytest.fixture(autouse=True)
def _isolate(request, monkeypatch, tmp_path_factory):
    from attune.agent.llm import guard

    for name in list(os.environ):
        if name.startswith("ATTUNE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ATTUNE_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setattr(guard, "ALLOW_MODEL_REQUESTS", request.node.get_closest_marker("real_model") is not None)


@pytest.fixture
def settings(tmp_path):
    from attune.agent.config import load_settings

    s = load_settings(data_dir=tmp_path / "data", llm="scripted")
    return s


@pytest.fixture
def scripted():
    from attune.agent.llm import scripted_backend

    return scripted_backend()


@pytest.fixture
def ctx(settings, scripted):
    from attune.agent.context import AppContext

    c = AppContext.create(settings, backend=scripted)
    yield c
    c.store.close()


@pytest.fixture(scope="session")
def guard():
    """The input screen with its learned layer fitted, shared by the safety tests (it keeps no per-message state)."""
    from attune.agent.safety.input_guard import InputGuard

    g = InputGuard()
    g.warm_up()
    return g


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium for the browser tests, one per test module."""
    from tests.ui_helpers import chromium

    with chromium() as b:
        yield b
