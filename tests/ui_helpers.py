"""Start the web app in a thread for UI tests, with a deterministic chat model; drive its chat.

``EchoChatModel`` answers "I hear you: <last message>" word by word with a
small delay, so streaming is visible in a browser and concurrent sessions
can be checked for mixed-up replies. ``send``, ``wait_for_turn`` and
``last_reply`` drive the patient page's chat in Playwright.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from attune.agent.llm import ChatBackend, ScriptedChatModel

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic"]
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/attune-shots")


def has_learning() -> bool:
    return importlib.util.find_spec("attune.agent.learning") is not None


class EchoChatModel(ScriptedChatModel):
    """Queued replies first; with an empty queue, echo the last user message."""

    word_delay: float = 0.0  # seconds between streamed words

    def _next(self, messages, kwargs):
        reply = super()._next(messages, kwargs)
        if reply.startswith("[scripted model"):
            last = next((m.content for m in reversed(messages) if m.type == "human"), "")
            reply = f"I hear you: {last}"
        return reply

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            if self.word_delay:
                time.sleep(self.word_delay)
            yield chunk


def echo_backend(word_delay: float = 0.0) -> ChatBackend:
    return ChatBackend(name="scripted", model=EchoChatModel(word_delay=word_delay), supports_prefill=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a server process the test started to end; kill it if it does not."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def chromium(extra_args: Sequence[str] = ()) -> Iterator:
    """Debian's Chromium, headless, driven by Playwright (one per test module)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS + list(extra_args))
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def running_app(ctx, **build_kwargs) -> Iterator[str]:
    """Launch ``build_app(ctx)`` on a free port; yields the base URL (no trailing slash)."""
    from attune.ui.app import build_app, launch_kwargs

    app = build_app(ctx, **build_kwargs)
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                           quiet=True, **launch_kwargs(ctx.settings))
    try:
        yield url.rstrip("/")
    finally:
        app.close()


def send(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def chat_text(page) -> str:
    return page.locator("#chat").inner_text()


def wait_for_turn(page, timeout: float = 90) -> None:
    """Wait until the "Attune is replying" indicator has come and gone."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # the indicator may already be gone when a turn is quick
        page.locator("#progress .progress").wait_for(state="attached", timeout=5_000)
    except PlaywrightTimeout:
        pass
    page.locator("#progress .progress").wait_for(state="detached", timeout=timeout * 1000)
    page.locator("#chat [data-testid=bot]").last.wait_for(timeout=timeout * 1000)


def last_reply(page) -> str:
    bots = page.locator("#chat [data-testid=bot]")
    return bots.last.inner_text() if bots.count() else ""
