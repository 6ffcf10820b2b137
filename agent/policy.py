"""The session protocol: which step comes next, decided by code.

Steps (a profile may leave some out): checkin -> explore -> offer_music ->
compose -> listen_checkin -> reflect -> close, plus the side steps crisis,
block, why and stop_music that any turn can take. ``decide`` is a pure
function of the session state, the safety verdict and the intent, so every
path is a table test.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from .intents import Intent

__all__ = ["SessionState", "Decision", "decide"]


class SessionState(BaseModel):
    """Everything a session needs to resume exactly where it was (stored encrypted)."""

    step: str = "new"
    turns: int = 0  # patient messages so far
    explore_turns: int = 0
    consent_store: bool | None = None
    offered_music: bool = False
    crisis_mode: bool = False
    flag_reason: str | None = None
    goal: tuple[float, float, str] | None = None
    avoid_instruments: list[str] = Field(default_factory=list)
    tempo_shift: int = 0  # BPM offset steps asked for in this session
    loudness_shift: int = 0
    last_piece: dict | None = None
    pieces: int = 0
    mood_track: dict | None = None
    summary: str = ""
    pending_music: bool = False  # asked for music before the check-in was done
    reflections: int = 0
    questions: int = 0
    fallbacks: int = 0
    code_worded: int = 0  # reflections code wrote by design (complex, from the person's words)
    started_at: str | None = None
    self_reports: list[dict] = Field(default_factory=list)
    readings: list[dict] = Field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    step: str
    reason: str


def decide(state: SessionState, action: str, intent: Intent, *, allowed: set[str],
           explore_before_offer: int, over_time: bool = False) -> Decision:
    """The next step. Safety first, then the person's explicit wishes, then the protocol."""
    if action == "crisis":
        return Decision("crisis", "the input screen found a risk signal")
    if action == "block":
        return Decision("block", "the input screen refused a harmful or out-of-scope request")
    if state.crisis_mode:
        if intent.name in {"music", "change"} and "compose" in allowed:
            return Decision("compose", "calming, breathing-paced music while in crisis mode")
        return Decision("crisis", "crisis mode lasts until the person says they are safe")
    if state.step == "new":
        return Decision("checkin", "first message of the session")
    if state.pending_music and state.step == "checkin" and "compose" in allowed and intent.name != "no":
        return Decision("compose", "asked for music in the first message")
    if intent.name == "why":
        if state.last_piece:
            return Decision("why", "asked why this music")
        return Decision("explore", "asked why, but no piece has been made yet")
    if intent.name == "stop":
        return Decision("stop_music", "asked to stop the music")
    if intent.name == "bye" or over_time:
        return Decision("close", "said goodbye" if intent.name == "bye" else "session time is up")
    music_ok = "compose" in allowed
    if intent.name in {"music", "change"} and music_ok:
        return Decision("compose", "asked for music" if intent.name == "music" else "asked for a change")
    if state.step == "offer_music":
        if intent.name == "yes" and music_ok:
            return Decision("compose", "accepted the offer of music")
        if intent.name == "no":
            return Decision("explore", "declined music for now")
    if state.step == "listen_checkin" and intent.name == "yes" and music_ok:
        return Decision("compose", "asked for another piece")
    if state.step == "compose":
        return Decision("listen_checkin", "a piece has just been played")
    if state.step == "listen_checkin":
        return Decision("reflect", "reflecting on how the music felt")
    if (music_ok and "offer_music" in allowed and not state.offered_music
            and state.explore_turns >= explore_before_offer):
        return Decision("offer_music", "enough is known to offer music")
    return Decision("explore", "listening and reflecting")
