"""The session protocol: which step comes next, decided by code.

Steps (a profile may leave some out): checkin -> explore -> offer_music ->
compose -> listen_checkin -> reflect -> close, plus the side steps crisis,
block, why, stop_music, feedback and clarify that any turn can take.
``decide`` is a pure function of the session state, the safety verdict and
the reader's view of the message, so every path is a table test.

The person leads: a request for music is answered with music on that turn,
the first turn included (consent to keep notes is asked alongside, never as
a gate); feedback that asks for a change gets a changed piece; a request the
reader is unsure of is asked about, not acted on.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from .reader import Reading

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
    flag_corrected: str | None = None  # set when the person says they are safe after a crisis reply
    goal: tuple[float, float, str] | None = None
    avoid_instruments: list[str] = Field(default_factory=list)
    music_prefs: dict = Field(default_factory=dict)  # agent.music_prefs.MusicPrefs as JSON
    consent_asked: int = 0  # how many times the notes question has been asked
    consent_turn: int = 0  # the turn whose reply last asked it (only the next message answers it)
    pending: str | None = None  # the yes/no question the last reply asked besides consent: "music" (an
    # offer), "another" (after a piece), or "clarify-<intent>"; None when it asked none
    used_lines: list[str] = Field(default_factory=list)  # code-worded sentences already said this session
    last_piece: dict | None = None
    pieces: int = 0
    mood_track: dict | None = None
    summary: str = ""
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


SURE_YES = 0.85  # a yes this sure to "shall I make another piece?" makes one; a vaguer "ok thanks" does not


def decide(state: SessionState, action: str, reading: Reading, *, allowed: set[str],
           explore_before_offer: int, over_time: bool = False) -> Decision:
    """The next step. Safety first, then the person's explicit wishes, then the protocol."""
    if action == "crisis":
        return Decision("crisis", "the input screen found a risk signal")
    if action == "block":
        return Decision("block", "the input screen refused a harmful or out-of-scope request")
    music_ok = "compose" in allowed
    if state.crisis_mode:
        if reading.wants_music and music_ok:
            return Decision("compose", "calming, breathing-paced music while in crisis mode")
        return Decision("crisis", "crisis mode lasts until the person says they are safe")
    # with no piece yet there is nothing to give feedback on: an unsure "feedback" reading is not asked about
    if reading.acts and not reading.sure and not (reading.intent == "feedback" and not state.last_piece):
        return Decision("clarify", f"unsure whether this was {reading.intent} (p={reading.confidence:.2f})")
    if reading.intent == "yes" and state.pending and state.pending.startswith("clarify-"):
        meant = state.pending.removeprefix("clarify-")  # "Would you like me to play some music now?" - "yes"
        if meant in {"music", "feedback", "yes"} and music_ok:  # "yes": to "another piece, or enough for today?"
            return Decision("compose", f"confirmed: {meant}")
        if meant in {"stop", "bye"}:
            return Decision("stop_music" if meant == "stop" else "close", f"confirmed: {meant}")
    if reading.intent == "why":
        return Decision("why", "asked about the music or the method")
    if reading.intent == "stop":
        return Decision("stop_music", "asked to stop the music")
    if reading.intent == "bye" or over_time:
        return Decision("close", "said goodbye" if reading.intent == "bye" else "session time is up")
    if reading.wants_music and music_ok:
        return Decision("compose", "asked for music" if reading.intent == "music" else "asked for a change")
    if state.step == "new":
        return Decision("checkin", "first message of the session")
    if reading.intent == "feedback" and state.last_piece:
        return Decision("feedback", "said how the piece felt, without asking for a change")
    if state.step == "offer_music":
        if reading.intent == "yes" and music_ok:
            return Decision("compose", "accepted the offer of music")
        if reading.intent == "no":
            return Decision("explore", "declined music for now")
    if state.step == "listen_checkin" and reading.intent == "yes" and music_ok:
        if reading.confidence >= SURE_YES:
            return Decision("compose", "asked for another piece")
        # "ok, thanks" (yes 0.43, bye 0.36) is not a request, nor a goodbye: it was answered with a reflection
        # ("part of you feels anxious right now") that left the offer hanging; a listener would ask
        return Decision("clarify", f"an unsure yes to another piece (p={reading.confidence:.2f})")
    if state.step == "compose":
        return Decision("listen_checkin", "a piece has just been played")
    if state.step == "listen_checkin":
        return Decision("reflect", "reflecting on how the music felt")
    if (music_ok and "offer_music" in allowed and not state.offered_music
            and state.explore_turns >= explore_before_offer):
        return Decision("offer_music", "enough is known to offer music")
    return Decision("explore", "listening and reflecting")
