"""What the web app and other front ends call besides the turn itself.

Ratings, heart rate, RR files and voice notes are stored (encrypted) and
feed the session's mood so that the next piece adapts; each call returns a
small dict fit to show. A turn itself is ``attune.agent.turn.run_turn``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .context import AppContext, SessionRef
from .errors import InputError

__all__ = ["rate", "add_heart_rate", "add_heart_file", "add_voice", "session_history", "patient_pieces"]


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
    session = ctx.store.session(ref.session_id, ref.patient_id)
    state = session["state"]
    piece_id = piece_id or (state.get("last_piece") or {}).get("piece_id")
    ctx.store.add_rating(ref.patient_id, ref.session_id, phase, data, piece_id=piece_id)
    state.setdefault("self_reports", []).append({**data, "phase": phase})
    ctx.store.save_session_state(ref.session_id, ref.patient_id, state)
    from .learning import record_outcome  # lazily: only when a piece is rated

    outcome = record_outcome(ctx, ref, phase, data, piece_id)
    return {"stored": True, "phase": phase, "piece_id": piece_id, "outcome": outcome}


def add_heart_rate(ctx: AppContext, ref: SessionRef, bpm: float) -> dict[str, Any]:
    from attune.tools.mood import check_bpm

    value = check_bpm(bpm)
    return _store_reading(ctx, ref, "heart", {"heart_rate": value})


def add_heart_file(ctx: AppContext, ref: SessionRef, path: str | Path) -> dict[str, Any]:
    from attune.tools.mood import read_heart_file

    reading = read_heart_file(path)
    return _store_reading(ctx, ref, "heart", reading.model_dump(mode="json"))


def add_voice(ctx: AppContext, ref: SessionRef, path: str | Path) -> dict[str, Any]:
    from attune.tools.mood import infer_voice

    est = infer_voice(path)
    return _store_reading(ctx, ref, "voice", {"valence": est.valence, "arousal": est.arousal,
                                              "confidence": est.confidence,
                                              "evidence": [e.detail for e in est.evidence]})


def _store_reading(ctx: AppContext, ref: SessionRef, source: str, data: dict) -> dict[str, Any]:
    ctx.store.add_mood(ref.patient_id, ref.session_id, source, data)
    session = ctx.store.session(ref.session_id, ref.patient_id)
    state = session["state"]
    state.setdefault("readings", []).append({"source": source, **data,
                                             "at": datetime.now(timezone.utc).isoformat()})
    ctx.store.save_session_state(ref.session_id, ref.patient_id, state)
    return {"stored": True, "source": source, **data}


def session_history(ctx: AppContext, ref: SessionRef) -> list[dict]:
    """The conversation so far as chat messages (for a returning patient's page)."""
    out = []
    for t in ctx.store.turns(ref.session_id, ref.patient_id):
        out.append({"role": "user" if t["role"] == "patient" else "assistant", "content": t["content"],
                    "meta": t["meta"]})
    return out


def patient_pieces(ctx: AppContext, ref: SessionRef) -> list[dict]:
    return ctx.store.pieces(ref.patient_id)
