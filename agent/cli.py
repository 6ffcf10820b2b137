"""The ``attune`` command (DESIGN.md, "Command line contract").

All JSON goes to stdout; errors go to stderr as one readable sentence with
a non-zero exit code (2 for bad input or configuration, 1 for a missed
threshold). Subcommands owned by other parts register themselves through a
``register(subparsers)`` function in their own ``cli`` module.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any, Callable

from attune.common.errors import AttuneError

__all__ = ["main", "build_parser"]

# Subcommands that other parts add through their own ``register``: command -> module. Only the
# module of the command being run is imported (music21 and the mood models cost 0.3-0.8 s to
# import, which `attune screen` has no use for); help and unknown commands import them all.
_REGISTRARS = {
    "compose": "attune.tools.music.cli",
    "screen": "attune.agent.safety.cli",
    "mood": "attune.tools.mood.cli",
    "kb": "attune.knowledge.cli",
    "eval": "attune.evals.cli",
    "bench": "attune.agent.bench",
    "user": "attune.ui.cli",
    "tools": "attune.agent.toolbox",
}


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def _settings(args: argparse.Namespace):
    from .config import load_settings

    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    if getattr(args, "profile", None):
        overrides["profile"] = args.profile
    return load_settings(**overrides)


def _context(args: argparse.Namespace):
    from .context import AppContext

    return AppContext.create(_settings(args))


def _from_server(args: argparse.Namespace, message: str, session: str | None) -> dict | None:
    """The turn answered by a running `attune serve` on the same data folder, or None (run it here)."""
    if getattr(args, "local", False):
        return None
    from .local_server import post_turn

    settings = _settings(args)
    payload = {"message": message, "session": session, "patient": args.patient}
    result = post_turn(settings.data_dir, payload, getattr(args, "profile", None), settings.llm_timeout + 120)
    if result is not None and not getattr(args, "_told", False):
        print("attune: answered by the running attune serve (use --local to run here)", file=sys.stderr)
        args._told = True
    return result


def cmd_ask(args: argparse.Namespace) -> int:
    from .text import decode_bytes

    message = args.message
    if message == "-":
        message = decode_bytes(sys.stdin.buffer.read())
    result = _from_server(args, message, args.session)
    if result is None:
        from .local_server import turn_result

        result = turn_result(_context(args), message, args.session, args.patient)
    for notice in result.pop("notices", []):
        print(f"attune: {notice}", file=sys.stderr)
    print(_dump(result))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .text import decode_bytes

    ctx = ref = None
    session = args.session
    interactive = sys.stdin.isatty()
    if interactive:
        print("Attune: an AI companion for music and relaxation, not a therapist. "
              "Type 'quit' to leave. In danger? Call your local emergency number.", flush=True)
    while True:
        if interactive:
            print("you> ", end="", flush=True)
        raw = sys.stdin.buffer.readline()
        if not raw:
            break
        line = decode_bytes(raw).strip()
        if line.lower() in {"quit", "exit"}:  # "bye" is said to Attune, which answers with a goodbye
            break
        if not line:
            continue
        print("attune> ", end="", flush=True)
        try:
            served = _from_server(args, line, session) if ctx is None else None
        except AttuneError as exc:  # the server refused this message; the conversation goes on
            print(f"\n[{exc}]", flush=True)
            continue
        if served is not None:
            session = served["session"]
            notes = "".join(f"\n[{n}]" for n in served.get("notices", []))
            print(served["reply"] + notes, flush=True)
            continue
        if ctx is None:  # no server: this process runs the turns from here on
            from .events import Notice, Reply, ReplyDelta, TurnFailed
            from .turn import run_turn

            ctx = _context(args)
            ref = ctx.resume_session(session, args.patient) if session else ctx.start_session(args.patient)
        try:
            streamed = ""
            for ev in run_turn(ctx, ref, line):
                if isinstance(ev, ReplyDelta):
                    streamed += ev.text
                    print(ev.text, end="", flush=True)
                elif isinstance(ev, Reply) and (not streamed or ev.fallback) and ev.text.strip() != streamed.strip():
                    # the checked reply replaces what streamed; shown once, never twice
                    print(("\n" if streamed else "") + ev.text, end="", flush=True)
                elif isinstance(ev, (Notice, TurnFailed)):
                    print(f"\n[{ev.message}]", end="", flush=True)
            print(flush=True)
        except AttuneError as exc:  # a bad message must not end the conversation
            print(f"\n[{exc}]", flush=True)
    print(_dump({"session": ref.session_id if ref is not None else session}), file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from attune.ui.app import serve

    settings = _settings(args)
    serve(settings)
    return 0


_BUILT_IN = ("serve", "chat", "ask")


def _command(argv: list[str] | None) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option)."""
    return next((w for w in argv or [] if not w.startswith("-")), None)


def build_parser(argv: list[str] | None = None, *, everything: bool = False) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming one of the registered commands, only that command's module loads."""
    parser = argparse.ArgumentParser(prog="attune", description="Attune: a music-medicine companion (not therapy).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("chat", help="talk with Attune in the terminal")
    p.add_argument("--profile")
    p.add_argument("--session", help="continue a stored session")
    p.add_argument("--patient", default=None, help="personal code (default: the local user)")
    p.add_argument("--local", action="store_true", help="run here even when attune serve is up")
    p.set_defaults(handler=cmd_chat)

    p = sub.add_parser("ask", help="one turn; prints the result as JSON")
    p.add_argument("message", help="the message, or - to read it from stdin")
    p.add_argument("--profile")
    p.add_argument("--session", help="continue a stored session")
    p.add_argument("--patient", default=None, help="personal code (default: the local user)")
    p.add_argument("--local", action="store_true", help="run here even when attune serve is up")
    p.set_defaults(handler=cmd_ask)

    command = None if everything else _command(argv)
    if command in _REGISTRARS:
        modules = [_REGISTRARS[command]]
    elif command in _BUILT_IN:
        modules = []
    else:  # help, or a command to be reported as unknown: every part's commands are listed
        modules = list(dict.fromkeys(_REGISTRARS.values()))
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that part is not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if hasattr(args, "patient") and args.patient is None:
        from .config import LOCAL_PATIENT_CODE

        args.patient = LOCAL_PATIENT_CODE
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return int(handler(args) or 0)
    except AttuneError as exc:
        print(f"attune: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
