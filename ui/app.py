"""The Gradio web app: the patient page at ``/`` and the clinician console at ``/console``.

``build_app(ctx)`` returns the Blocks (tests launch it in a thread);
``serve(settings)`` launches it with analytics off, no footer links, only
the pieces folder served, and an explicit concurrency limit on the queue
(Gradio 6 defaults every event to 1). The first administrator comes from
``ATTUNE_ADMIN_PASSWORD`` or ``attune user add``.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from pathlib import Path  # noqa: E402

from attune.agent.config import Settings  # noqa: E402
from attune.agent.context import AppContext  # noqa: E402

from . import auth  # noqa: E402

__all__ = ["build_app", "serve", "launch_kwargs", "CSS_PATH"]

CSS_PATH = Path(__file__).parent / "static" / "attune.css"
CACHE_SECONDS = 600  # exports and uploads leave Gradio's cache after about ten minutes


def build_app(ctx: AppContext, *, idle_seconds: float = auth.IDLE_SECONDS):
    """The patient page and the console (a second page at /console, not in the nav bar)."""
    import gradio as gr

    from .console import build_console_page
    from .patient import build_patient_page

    ctx.settings.pieces_dir.mkdir(parents=True, exist_ok=True)
    with gr.Blocks(title="Attune", analytics_enabled=False, delete_cache=(CACHE_SECONDS, CACHE_SECONDS)) as app:
        build_patient_page(ctx, gr, app)
    with app.route("Clinician console", "/console", show_in_navbar=False):
        build_console_page(ctx, gr, idle_seconds=idle_seconds)
    app.queue(default_concurrency_limit=ctx.settings.gradio_concurrency)
    return app


def launch_kwargs(settings: Settings) -> dict:
    """What every launch passes (the tests use the same)."""
    import gradio as gr

    theme = gr.themes.Default(primary_hue="blue", neutral_hue="slate")  # white on blue-600: 5.2:1 contrast
    return {"theme": theme, "footer_links": [], "allowed_paths": [str(settings.pieces_dir)], "show_error": False,
            "css_paths": [str(CSS_PATH)], "max_file_size": "20mb",
            "head": '<meta name="viewport" content="width=device-width, initial-scale=1">'}


def serve(settings: Settings) -> None:
    ctx = AppContext.create(settings)
    created = auth.ensure_admin_from_env(ctx.store)
    if created:
        print(f"Created the administrator account {created!r} from ATTUNE_ADMIN_PASSWORD.", flush=True)
    import threading

    # the page serves at once; the model, screens and index load beside it
    threading.Thread(target=ctx.warm_up, name="attune-warm-up", daemon=True).start()
    app = build_app(ctx)
    app.launch(server_name=settings.host, server_port=settings.port, prevent_thread_lock=True,
               **launch_kwargs(settings))
    from attune.agent import local_server

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    token = local_server.new_token()
    attach_local_turns(app, ctx, token)
    local_server.announce(settings.data_dir, f"http://{host}:{app.server_port}", settings.profile, token)
    import signal
    import sys

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a stop request ends as Ctrl+C does: cleaned up
    try:
        app.block_thread()
    finally:
        local_server.withdraw(settings.data_dir)


def attach_local_turns(app, ctx: AppContext, token: str) -> None:
    """``POST /attune-local/turn``: a turn for `attune ask` and `attune chat` on this machine (see
    ``agent/local_server.py``); requests without the token from ``serve.json`` get 403."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    from attune.agent import local_server
    from attune.common.errors import AttuneError

    def run(body: dict) -> JSONResponse:
        message, patient = body.get("message"), body.get("patient")
        if not isinstance(message, str) or not isinstance(patient, str) or not patient:
            return JSONResponse({"error": "A turn needs a message and a patient code.", "exit_code": 2},
                                status_code=400)
        session = body.get("session") if isinstance(body.get("session"), str) else None
        try:
            return JSONResponse(local_server.turn_result(ctx, message, session, patient))
        except AttuneError as exc:
            return JSONResponse({"error": str(exc), "exit_code": exc.exit_code}, status_code=400)

    async def turn(request):  # a Starlette route: no FastAPI parameter parsing
        if not local_server.token_ok(token, request.headers.get(local_server.TOKEN_HEADER)):
            return JSONResponse({"error": "This server's token is needed."}, status_code=403)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"error": "A turn is a JSON object.", "exit_code": 2}, status_code=400)
        return await run_in_threadpool(run, body)

    app.app.add_route(local_server.ROUTE, turn, methods=["POST"], include_in_schema=False)
