"""`attune ask` and `attune chat` answered by a running `attune serve`, so they skip the start-up.

A new process pays for imports and loading (the model, the screens, the
index) before its first word; a running server has paid already. When
`attune serve` starts it writes ``<data_dir>/serve.json`` (mode 0600: the
address, its process id and a random token) and answers
``POST /attune-local/turn`` for requests that carry the token. The token
file sits beside the encryption key, so only someone who could read the
patient data anyway can use it. A command finds the file, checks that the
process is alive and posts the turn; when there is no server, or it cannot
be reached, the command runs the turn itself (``--local`` always does).

This module imports only the standard library and ``errors``: a client must start fast.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from attune.common.errors import AttuneError

__all__ = ["ROUTE", "TOKEN_HEADER", "server_file", "new_token", "announce", "withdraw", "post_turn", "turn_result",
           "ServerRefused"]

ROUTE = "/attune-local/turn"
TOKEN_HEADER = "X-Attune-Token"
FILE_NAME = "serve.json"


class ServerRefused(AttuneError):
    """The server answered, with an error for this turn (bad input, a model failure): not a reason to retry."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def server_file(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def new_token() -> str:
    return secrets.token_urlsafe(32)


def announce(data_dir: Path, url: str, profile: str, token: str) -> None:
    """Write the server file for this process (once its route answers: requests carry ``token``)."""
    path = server_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"url": url.rstrip("/"), "pid": os.getpid(), "token": token, "profile": profile}, fh)
    os.replace(tmp, path)


def withdraw(data_dir: Path) -> None:
    """Remove the server file if this process wrote it."""
    path = server_file(data_dir)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def token_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def post_turn(data_dir: Path, payload: dict[str, Any], profile: str | None, timeout: float) -> dict | None:
    """The turn's JSON from a running server, or None when no usable server is up (run it here then)."""
    try:
        info = json.loads(server_file(data_dir).read_text(encoding="utf-8"))
        url, token, pid = info["url"], info["token"], int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid) or (profile and profile != info.get("profile")):
        return None
    request = urllib.request.Request(url + ROUTE, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", TOKEN_HEADER: token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own local server
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 422):
            try:
                body = json.loads(exc.read().decode("utf-8"))
            except ValueError:
                body = {}
            raise ServerRefused(body.get("error") or f"The server refused the turn ({exc.code}).",
                                int(body.get("exit_code", 2))) from None
        return None  # 403 (a stale token), 404 (an older server), 5xx: run the turn here instead
    except (urllib.error.URLError, OSError, ValueError):
        return None


def turn_result(ctx, message: str, session: str | None, patient: str) -> dict[str, Any]:
    """Run one turn and return what `attune ask` prints, plus the notices it would write to stderr."""
    from attune.common.errors import from_failure
    from .events import Notice, TurnDone, TurnFailed
    from .turn import run_turn

    ref = ctx.resume_session(session, patient) if session else ctx.start_session(patient)
    done = None
    notices: list[str] = []
    for ev in run_turn(ctx, ref, message):
        if isinstance(ev, Notice):
            notices.append(ev.message)
        elif isinstance(ev, TurnDone):
            done = ev
        elif isinstance(ev, TurnFailed):  # the caller prints the message and exits with its code
            raise from_failure(ev.error, ev.message)
    return {"reply": done.reply, "action": done.action, "mood": done.mood, "music": done.music,
            "sources": done.sources, "session": done.session, "notices": notices}
