"""What the web app and other front ends call besides the turn itself.

Ratings, heart rate, RR files, voice notes, face snapshots and EEG readings
are stored (encrypted; derived numbers only, never the picture or the raw
signal) and feed the session's mood so that the next piece adapts; each call
returns a small dict fit to show. ``end_session`` closes a session the way
saying goodbye does, for an "End session" button. A turn itself is
``attune.agent.turn.run_turn``; the music library (favourites, replay, more
like this, wind-down playlists) is ``attune.agent.library``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .context import LOCAL_PATIENT_CODE, AppContext, SessionRef
from attune.common.errors import ConfigError, InputError

__all__ = ["rate", "add_heart_rate", "add_heart_file", "add_voice", "add_face", "add_eeg_file", "add_eeg_reading",
           "read_eeg_headset", "read_eeg_live", "set_eeg_baseline", "session_history", "patient_pieces",
           "end_session"]


def _bounded(name: str, value: float | None, lo: float, hi: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number from {lo:g} to {hi:g}.") from None
    if not lo <= number <= hi:
        raise InputError(f"{name} must be from {lo:g} to {hi:g} (got {number:g}).")
    return number


def rate(ctx: AppContext, ref: SessionRef, phase: str, *, sam_valence: float | None = None,
         sam_arousal: float | None = None, suds: float | None = None, liking: float | None = None,
         piece_id: str | None = None, note: str = "") -> dict[str, Any]:
    """Store a self-rating (SAM 1-9, SUDS 0-10, liking 1-5) taken before or after a piece."""
    if phase not in {"pre", "post"}:
        raise InputError("A rating is taken 'pre' (before) or 'post' (after) a piece.")
    data = {
        "sam_valence": _bounded("SAM valence", sam_valence, 1, 9),
        "sam_arousal": _bounded("SAM arousal", sam_arousal, 1, 9),
        "suds": _bounded("SUDS", suds, 0, 10),
        "liking": _bounded("Liking", liking, 1, 5),
        "note": (note or "")[:2000],
        "at": datetime.now(timezone.utc).isoformat(),
    }
    if all(data[k] is None for k in ("sam_valence", "sam_arousal", "suds", "liking")):
        raise InputError("Give at least one rating (SAM, SUDS or how much you liked it).")
    with ctx.store.session_lock(ref.session_id):
        session = ctx.store.session(ref.session_id, ref.patient_id)
        state = session["state"]
        piece_id = piece_id or (state.get("last_piece") or {}).get("piece_id")
        ctx.store.add_rating(ref.patient_id, ref.session_id, phase, data, piece_id=piece_id)
        state.setdefault("self_reports", []).append({**data, "phase": phase})
        ctx.store.save_session_state(ref.session_id, ref.patient_id, state)
    from .learning import measured_change, rating_before, record_outcome  # lazily: only when a piece is rated

    ratings = ctx.store.ratings(ref.patient_id, ref.session_id) if phase == "post" else None
    outcome = record_outcome(ctx, ref, phase, data, piece_id, ratings)
    measured = None
    if ratings is not None:  # an after rating measures a change only against a before rating of the same piece
        measured = measured_change(rating_before(ratings, piece_id) or {}, data) is not None
    return {"stored": True, "phase": phase, "piece_id": piece_id, "outcome": outcome, "measured": measured}


def add_heart_rate(ctx: AppContext, ref: SessionRef, bpm: float) -> dict[str, Any]:
    from attune.tools.mood import check_bpm

    value = check_bpm(bpm)
    return _store_reading(ctx, ref, "heart", {"heart_rate": value})


def add_heart_file(ctx: AppContext, ref: SessionRef, path: str | Path) -> dict[str, Any]:
    from attune.tools.mood import read_heart_file

    reading = read_heart_file(path).model_dump(mode="json")
    # one key for the heart rate everywhere ("heart_rate", beats per minute); the reading's own
    # "source" (manual, rr, hr_series) would otherwise hide that this is a heart reading
    data = {"heart_rate": reading.pop("hr"), "method": reading.pop("source"), **reading}
    return _store_reading(ctx, ref, "heart", data)


def add_voice(ctx: AppContext, ref: SessionRef, path: str | Path) -> dict[str, Any]:
    from attune.tools.mood import infer_voice

    est = infer_voice(path)
    return _store_reading(ctx, ref, "voice", {"valence": est.valence, "arousal": est.arousal,
                                              "confidence": est.confidence,
                                              "evidence": [e.detail for e in est.evidence]})


def _estimate_record(source: str, est) -> dict[str, Any]:
    """The numbers kept of an inferred estimate: (source in fusion.RELIABILITY, valence, arousal, confidence, why)."""
    return {"fusion_source": source, "valence": est.valence, "arousal": est.arousal,
            "confidence": est.confidence, "evidence": [e.detail for e in est.evidence]}


def add_face(ctx: AppContext, ref: SessionRef, image: Any) -> dict[str, Any]:
    """Read the expression in one snapshot (path, bytes or array); the picture itself is never kept.

    Besides the estimate, the record names the most probable expression
    (``expression``, ``expression_p`` 0-1) so a page can say what was seen.
    """
    from attune.tools.mood.face import classify_face, infer_face

    seen = classify_face(image)
    est = infer_face(None, reading=seen)
    record = _estimate_record("face", est)
    if not seen.found:  # no face: say so, keep nothing
        return {"stored": False, "source": "face", **record}
    record.update(expression=seen.top, expression_p=round(seen.top_probability, 3), faces=seen.faces)
    return _store_reading(ctx, ref, "face", record)


def _eeg_baseline(ctx: AppContext, ref: SessionRef) -> float | None:
    return (ctx.store.patient_data(ref.patient_id).get("baseline") or {}).get("eeg_index")


def add_eeg_reading(ctx: AppContext, ref: SessionRef, reading) -> dict[str, Any]:
    """Store an EEG reading taken already (e.g. by `read_eeg_headset`), against the person's calm baseline."""
    from attune.tools.mood.fusion import eeg_source
    from attune.tools.mood.model import Baseline

    source, est = eeg_source(reading, Baseline(eeg_index=_eeg_baseline(ctx, ref)))
    record = {**_estimate_record(source, est), "index": round(reading.index, 4), "seconds": reading.seconds,
              "board": reading.board}
    return _store_reading(ctx, ref, "eeg", record)


def add_eeg_file(ctx: AppContext, ref: SessionRef, path: str | Path, board: str | None = None) -> dict[str, Any]:
    """Import a recorded BrainFlow session (board: the configured headset, else the synthetic board)."""
    from attune.tools.mood.eeg import read_eeg_file

    return add_eeg_reading(ctx, ref, read_eeg_file(path, board or _recording_board(ctx)))


def _recording_board(ctx: AppContext) -> str:
    """The board a recording came from: the configured headset, else BrainFlow's synthetic board."""
    return ctx.settings.eeg_board or "synthetic"


def _eeg_params(ctx: AppContext) -> dict[str, str]:
    s = ctx.settings
    return {k: v for k, v in {"serial_port": s.eeg_serial_port, "mac_address": s.eeg_mac_address}.items() if v}


def read_eeg_headset(ctx: AppContext, seconds: float | None = None):
    """Stream the configured headset for a few seconds and return the `EegReading`; stores nothing.

    ConfigError if no headset is set. Split from storing so that a front end
    can stream for seconds without holding up the session it stores into.
    """
    from attune.tools.mood.eeg import stream_board

    if not ctx.settings.eeg_board:
        raise ConfigError("No EEG headset is configured (set ATTUNE_EEG_BOARD, e.g. muse_2, or synthetic for a demo).")
    return stream_board(ctx.settings.eeg_board, seconds or ctx.settings.eeg_seconds, _eeg_params(ctx))


def read_eeg_live(ctx: AppContext, ref: SessionRef, seconds: float | None = None) -> dict[str, Any]:
    """Stream the configured headset for a few seconds and store the reading (ConfigError if none is set)."""
    return add_eeg_reading(ctx, ref, read_eeg_headset(ctx, seconds))


def set_eeg_baseline(ctx: AppContext, ref: SessionRef, seconds: float | None = None,
                     path: str | Path | None = None) -> dict[str, Any]:
    """Record the person's calm EEG index (seated, relaxed) from the headset or a recording."""
    from attune.tools.mood.eeg import read_eeg_file

    reading = read_eeg_file(path, _recording_board(ctx)) if path is not None else read_eeg_headset(ctx, seconds)
    data = ctx.store.patient_data(ref.patient_id)
    data.setdefault("baseline", {})["eeg_index"] = round(reading.index, 4)
    ctx.store.set_patient_data(ref.patient_id, data)
    return {"stored": True, "source": "eeg_baseline", "index": round(reading.index, 4), "seconds": reading.seconds}


def _store_reading(ctx: AppContext, ref: SessionRef, source: str, data: dict) -> dict[str, Any]:
    with ctx.store.session_lock(ref.session_id):
        ctx.store.add_mood(ref.patient_id, ref.session_id, source, data)
        session = ctx.store.session(ref.session_id, ref.patient_id)
        state = session["state"]
        state.setdefault("readings", []).append({"source": source, **data,
                                                 "at": datetime.now(timezone.utc).isoformat()})
        ctx.store.save_session_state(ref.session_id, ref.patient_id, state)
    return {"stored": True, "source": source, **data}


def returning_session(ctx: AppContext, typed_code: str, session_id: str = "") -> SessionRef:
    """The session a returning person continues: the one named, else their latest, else a new one.

    The code is tried as typed and in its canonical form; the command line's shared local user is
    never reachable this way, and a session of another patient is refused.
    """
    from .codes import canonical_code

    for code in dict.fromkeys([typed_code, canonical_code(typed_code)]):
        pid = ctx.store.patient_for_code(code, create=False) if code and code != LOCAL_PATIENT_CODE else None
        if pid is not None:
            break
    else:
        raise InputError("That code is not known here. Check it is typed as it was shown, or ask your clinician.")
    if session_id:
        return ctx.resume_session(session_id, code)
    sessions = sorted(ctx.store.list_sessions("patient", pid), key=lambda s: s["updated_at"])
    return ctx.resume_session(sessions[-1]["id"], code) if sessions else ctx.start_session(code)


def session_history(ctx: AppContext, ref: SessionRef) -> list[dict]:
    """The conversation so far as chat messages (for a returning patient's page)."""
    out = []
    for t in ctx.store.turns(ref.session_id, ref.patient_id):
        out.append({"role": "user" if t["role"] == "patient" else "assistant", "content": t["content"],
                    "meta": t["meta"]})
    return out


def patient_pieces(ctx: AppContext, ref: SessionRef) -> list[dict]:
    return ctx.store.pieces(ref.patient_id)


def end_session(ctx: AppContext, ref: SessionRef) -> str:
    """Close the session as saying goodbye does and return the closing words (a short summary of it).

    The words and the memory are the goodbye's own (the close step of
    ``attune.agent.turn``): the pieces played, how distress changed, a crisis
    line, and this session kept in the patient's memory unless they declined
    notes. A session in which nothing was said gets a plain goodbye and leaves
    no memory. Ending a session that is closed already says its closing words
    again and changes nothing.
    """
    with ctx.store.session_lock(ref.session_id):
        return _end_session(ctx, ref)


def _end_session(ctx: AppContext, ref: SessionRef) -> str:
    from .policy import SessionState
    # the close step's own words and memory, so that the button and a goodbye cannot drift apart
    from .turn import close_text, goodbye_line, remember_session

    session = ctx.store.session(ref.session_id, ref.patient_id)
    state = SessionState.model_validate(session["state"] or {})
    if state.step == "close":
        said = [t["content"] for t in ctx.store.turns(ref.session_id, ref.patient_id)
                if t["role"] == "assistant" and (t["meta"] or {}).get("step") == "close"]
        if said:
            return said[-1]
    profile = ctx.profile(session["profile"])
    # an explicitly configured locale wins; otherwise the profile's (as in a turn)
    locale = ctx.settings.locale if ctx.settings.locale != "US" else profile.locale
    if state.turns:
        mood = _mood_now(state)
        text = close_text(state, goodbye_line(state, mood, locale, profile))
        remember_session(ctx, ref, state, mood)
    else:
        text = "Thank you for stopping by. Take care of yourself."
    state.step = "close"
    ctx.store.append_turn(ref.session_id, ref.patient_id, "assistant", text,
                          {"action": "allow", "step": "close", "ended_by": "button"})
    ctx.store.save_session_state(ref.session_id, ref.patient_id, state.model_dump(mode="json"))
    return text


def _mood_now(state) -> dict:
    """The session's mood now, label and valence: the tracked mood, led by a fresh self-rating (as in a turn)."""
    from attune.tools.mood import MoodTrack, SelfReport, fuse

    track = MoodTrack.from_dict(state.mood_track) if state.mood_track else MoodTrack()
    report = None
    for r in reversed(state.self_reports):
        values = {k: round(r[k]) for k in ("sam_valence", "sam_arousal", "suds") if r.get(k) is not None}
        if values:
            report = SelfReport(**values, at=datetime.fromisoformat(r["at"]))
            break
    now = fuse(track.current(), report)
    return {"label": now.label(), "valence": now.valence}
