"""The Gradio web app (foundation: a streamed chat wired to the turn stream).

Each browser tab gets its own session (``gr.State``); the local single user
is the default patient. Analytics are off: nothing is sent anywhere.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from typing import Any, Iterator  # noqa: E402

from attune.agent.config import Settings  # noqa: E402
from attune.agent.context import LOCAL_PATIENT_CODE, AppContext, SessionRef  # noqa: E402
from attune.agent.errors import AttuneError  # noqa: E402
from attune.agent.events import Reply, ReplyDelta  # noqa: E402
from attune.agent.turn import run_turn  # noqa: E402

__all__ = ["build_app", "serve"]

INTRO = ("**Attune** is an AI companion for music and relaxation. It is self-help, not therapy, "
         "and it cannot diagnose. If you are in danger, call your local emergency number now.")


def build_app(ctx: AppContext):
    import gradio as gr

    def respond(message: str, history: list[dict], ref: SessionRef | None) -> Iterator[Any]:
        if ref is None:
            ref = ctx.start_session(LOCAL_PATIENT_CODE)
        history = list(history or []) + [{"role": "user", "content": message or ""}]
        history.append({"role": "assistant", "content": ""})
        try:
            for ev in run_turn(ctx, ref, message or ""):
                if isinstance(ev, ReplyDelta):
                    history[-1]["content"] += ev.text
                    yield "", history, ref
                elif isinstance(ev, Reply):
                    history[-1]["content"] = ev.text
                    yield "", history, ref
        except AttuneError as exc:  # a clear message in the chat; the server keeps serving
            history[-1]["content"] = f"⚠️ {exc}"
            yield message, history, ref

    with gr.Blocks(title="Attune", analytics_enabled=False) as app:
        gr.Markdown(INTRO)
        ref_state = gr.State(None)
        chat = gr.Chatbot(label="Conversation with Attune", height=480)
        box = gr.Textbox(label="Your message", placeholder="How are you feeling right now?", lines=2)
        send = gr.Button("Send", variant="primary")
        limit = ctx.settings.gradio_concurrency
        send.click(respond, [box, chat, ref_state], [box, chat, ref_state], concurrency_limit=limit)
        box.submit(respond, [box, chat, ref_state], [box, chat, ref_state], concurrency_limit=limit)
    return app


def serve(settings: Settings) -> None:
    ctx = AppContext.create(settings)
    app = build_app(ctx)
    app.queue(default_concurrency_limit=settings.gradio_concurrency)
    app.launch(server_name=settings.host, server_port=settings.port, show_error=False,
               footer_links=[], allowed_paths=[str(settings.pieces_dir)])
