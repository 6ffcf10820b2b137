"""One patient turn as a generator of typed events.

Foundation shape: clean the message, store it, let the model reply
(streamed), store the reply. Screening, mood, retrieval, music and the
session protocol join this same stream (DESIGN.md, "One patient turn").
"""

from __future__ import annotations

from typing import Iterator

from .context import AppContext, SessionRef
from .events import Event, Reply, ReplyDelta, TurnDone, TurnStarted
from .text import clean_message

__all__ = ["run_turn", "collect"]

SYSTEM_PROMPT = (
    "You are Attune, a kind AI companion for music and relaxation (not a therapist). "
    "Reply in one or two short sentences that reflect back what the person said."
)
HISTORY_TURNS = 6  # earlier messages given to the model


def run_turn(ctx: AppContext, ref: SessionRef, message: str) -> Iterator[Event]:
    text = clean_message(message, ctx.settings.max_message_chars)
    history = ctx.store.turns(ref.session_id, ref.patient_id)
    number = sum(1 for t in history if t["role"] == "patient") + 1
    yield TurnStarted(session_id=ref.session_id, turn=number)
    ctx.store.append_turn(ref.session_id, ref.patient_id, "patient", text)

    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for t in history[-HISTORY_TURNS:]:
        messages.append({"role": "user" if t["role"] == "patient" else "assistant", "content": t["content"]})
    messages.append({"role": "user", "content": text})
    parts: list[str] = []
    for piece in ctx.backend.stream(messages):
        parts.append(piece)
        yield ReplyDelta(piece)
    reply = "".join(parts).strip()
    fallback = not reply
    if fallback:  # the model said nothing: code answers
        reply = "I'm here and listening. Tell me a little more about how that felt."
    yield Reply(text=reply, fallback=fallback)
    ctx.store.append_turn(ref.session_id, ref.patient_id, "assistant", reply,
                          meta={"action": "allow", "fallback": fallback})
    yield TurnDone(reply=reply, action="allow", mood=None, music=None, sources=[], session=ref.session_id)


def collect(events: Iterator[Event]) -> TurnDone:
    """Run a turn to the end and return its final event."""
    done = None
    for ev in events:
        if isinstance(ev, TurnDone):
            done = ev
    assert done is not None, "a turn always ends with TurnDone"
    return done
