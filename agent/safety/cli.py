"""``attune screen``: screen messages from the command line (DESIGN.md contract).

``attune screen --text T`` screens one message; without ``--text`` each stdin
line is one message (bytes that are not UTF-8 are replaced, never fatal).
Prints one JSON object per message: ``{"text", "action", "categories", "score"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO

__all__ = ["register", "handle_screen"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``screen`` sub-command to an argparse sub-parser set."""
    parser = subparsers.add_parser("screen", help="screen messages for risk; one JSON object per message")
    parser.add_argument("--text", help="one message; without it, read one message per stdin line")
    parser.add_argument("--locale", default=None, help="country code such as US, GB, DE (recorded, not used to screen)")
    parser.set_defaults(handler=handle_screen, func=handle_screen)
    return parser


def _emit(out: IO[str], text: str, guard) -> None:
    result = guard.screen(text)
    out.write(json.dumps({"text": text, "action": result.action, "categories": result.categories,
                          "score": result.score}, ensure_ascii=False) + "\n")


def handle_screen(args: argparse.Namespace, stdin: IO[bytes] | None = None, stdout: IO[str] | None = None) -> int:
    """Run the screen for the parsed arguments; returns the exit code."""
    from attune.knowledge.embedding import preload

    preload()  # the embedding model loads while the rules compile
    from .input_guard import InputGuard

    out = stdout or sys.stdout
    guard = InputGuard()
    text = getattr(args, "text", None)
    if text is not None:
        _emit(out, text, guard)
        return 0
    source = stdin if stdin is not None else sys.stdin.buffer
    for raw in source:
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, (bytes, bytearray)) else raw
        line = line.rstrip("\r\n")
        _emit(out, line, guard)
        out.flush()
    return 0


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - convenience entry
    parser = argparse.ArgumentParser(prog="attune")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
