"""Running a patient-page action: errors become status lines, and one lock per session.

Errors the person can act on (``AttuneError``) are shown as they are;
anything else is a bug, logged for the developer and shown as a plain
apology, so the page keeps working. The session lock keeps a turn and a
reading (heart, voice, face, EEG) from writing the session's state at the
same time: a turn loads the state when it starts and saves it when it ends,
so a reading stored in between would otherwise be lost.
"""

from __future__ import annotations

import logging
import threading
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from attune.common.errors import AttuneError, InputError

from . import views

__all__ = ["UNEXPECTED", "BUSY", "READING_WAIT_S", "SessionLocks", "guarded", "attempt"]

log = logging.getLogger(__name__)

UNEXPECTED = "Sorry, something went wrong on our side. Nothing you did caused it; please try again."
BUSY = "Attune is still busy with this session; please try that again in a moment."
READING_WAIT_S = 180.0  # seconds a reading waits for a reply in progress to finish before giving up


class SessionLocks:
    """One lock per session: a second message waits for the first reply, a reading for the turn."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def get(self, session_id: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(session_id)
            if lock is None:
                lock = threading.Lock()
                self._locks[session_id] = lock
            return lock

    @contextmanager
    def held(self, session_id: str, wait: float = READING_WAIT_S) -> Iterator[None]:
        """Hold the session's lock, waiting up to ``wait`` seconds for a running turn (InputError after)."""
        lock = self.get(session_id)
        if not lock.acquire(timeout=wait):
            raise InputError(BUSY)
        try:
            yield
        finally:
            lock.release()


def guarded(fn: Callable[[], Any]) -> tuple[Any, str]:
    """Run a service call: (its result, "") or (None, an error status line fit to show)."""
    try:
        return fn(), ""
    except AttuneError as exc:
        return None, views.status(str(exc), "error")
    except Exception:  # a bug: log it for the developer, keep the page usable
        log.exception("patient page action failed")
        return None, views.status(UNEXPECTED, "error")


def attempt(fn: Callable[[], str]) -> str:
    """Run a service call; return a status line (errors become clear messages)."""
    text, error = guarded(fn)
    return error or views.status(text, "ok")
