"""A turn that cannot finish ends its event stream with TurnFailed; it never raises half-way.

Every front end (the page, `attune ask`, the local server, the evaluation harness) reads the
same stream, so a fault shows up as a sentence the person can act on and the session goes on.
"""

from __future__ import annotations

import logging

import pytest

from attune.agent import turn as turn_module
from attune.common.errors import InputError, TurnError
from attune.agent.events import TurnDone, TurnFailed
from attune.agent.turn import collect, run_turn


@pytest.fixture
def session(ctx):
    return ctx.start_session("patient-turn-failed")


def test_a_fault_in_a_step_ends_the_stream_with_turn_failed(ctx, session, monkeypatch, caplog):
    def broken(t):
        raise KeyError("the person's words: my court date is on monday")
        yield  # pragma: no cover - a generator like every step

    monkeypatch.setitem(turn_module.STEPS, "checkin", broken)
    with caplog.at_level(logging.ERROR):
        events = list(run_turn(ctx, session, "my court date is on monday and I feel so tense"))
    last = events[-1]
    assert isinstance(last, TurnFailed) and last.error == "internal" and last.exit_code == 1
    assert "send your message again" in last.message
    assert not any(isinstance(e, TurnDone) for e in events)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "KeyError" in logged and "court" not in logged  # where it failed, never what was said
    with pytest.raises(TurnError):
        collect(run_turn(ctx, session, "my court date is on monday and I feel so tense"))


def test_the_session_goes_on_after_a_failed_turn(ctx, session, monkeypatch):
    def broken(t):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    with monkeypatch.context() as m:
        m.setitem(turn_module.STEPS, "checkin", broken)
        assert isinstance(list(run_turn(ctx, session, "hello there"))[-1], TurnFailed)
    done = collect(run_turn(ctx, session, "hello there"))  # the lock was released, the state not half-saved
    assert done.reply and done.session == session.session_id
    assert ctx.store.session(session.session_id, session.patient_id)["state"]["turns"] == 1


def test_too_long_a_message_is_a_clear_failure_and_nothing_is_stored(ctx, session):
    text = "so tired " * (ctx.settings.max_message_chars // 9 + 10)
    events = list(run_turn(ctx, session, text))
    last = events[-1]
    assert isinstance(last, TurnFailed) and last.error == "InputError"
    assert "characters long" in last.message and "nothing was stored" in last.message
    assert ctx.store.turns(session.session_id, session.patient_id) == []
    with pytest.raises(InputError):
        collect(run_turn(ctx, session, text))


def test_a_turn_is_written_whole_or_not_at_all(ctx, session, monkeypatch):
    """A failure at the turn's last write leaves no trace of it: no message, mood, piece, event or state."""
    from attune.common.errors import StorageError

    first = collect(run_turn(ctx, session, "hello, I've had a long day"))
    assert first.reply
    store, sid, pid = ctx.store, session.session_id, session.patient_id
    before = (len(store.turns(sid, pid)), len(store.moods(pid)), len(store.pieces(pid)), len(store.events(sid, pid)),
              store.session(sid, pid)["revision"])

    def refuse(*args, **kwargs):
        raise StorageError("the database went away")

    monkeypatch.setattr(type(store), "save_session_state", refuse)
    events = list(run_turn(ctx, session, "could you play me something calm please?"))
    assert isinstance(events[-1], TurnFailed) and "database went away" in events[-1].message
    monkeypatch.undo()
    after = (len(store.turns(sid, pid)), len(store.moods(pid)), len(store.pieces(pid)), len(store.events(sid, pid)),
             store.session(sid, pid)["revision"])
    assert after == before
    done = collect(run_turn(ctx, session, "could you play me something calm please?"))
    assert done.music and len(store.turns(sid, pid)) == before[0] + 2 and len(store.pieces(pid)) == before[2] + 1
