"""What the person has asked of the music in this session, and how the next piece honours it.

Spoken feedback ("too slow", "more hopeful", "no piano", "shorter") becomes
session preferences anchored to the piece they just heard, so the next piece
differs by an audible amount: at least 12 beats a minute for tempo, a mode
or register step for brightness, 14 velocity steps for loudness, 50 % more
or 40 % less length, and the instrument gone or leading. Preferences persist
for the session until the person changes them again. The profile's limits
still bound everything; where a request meets a limit, the reply says so
rather than pretending. In crisis mode only calming changes are honoured.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from attune.tools.music.plan import spoken_length

__all__ = ["MusicPrefs", "PieceMeasures", "apply_feedback", "describe_change", "measures", "spoken_length"]

TEMPO_STEP = 12.0  # beats per minute for "faster"/"slower" (a big ask: 20)
ENERGY_TEMPO_STEP = 10.0  # beats per minute for "livelier"/"calmer" ...
ENERGY_VELOCITY_STEP = 10  # ... with this much loudness (MIDI velocity)
LOUDNESS_STEP = 14  # MIDI velocity for "louder"/"softer" (a big ask: 22)
REGISTER_STEP = 3  # semitones, when the mode is already where the person wants it
LONGER, SHORTER = 1.5, 0.6  # length factors (a big ask: 2.0 and 0.45)
MIN_VELOCITY = 30  # quieter than this is hard to hear through laptop speakers


class PieceMeasures(BaseModel):
    """What a listener hears of a piece, averaged over its length."""

    model_config = ConfigDict(extra="forbid")
    bpm: float  # beats per minute
    velocity: float  # MIDI velocity 1-127
    major: float  # share of the length in a major key, 0-1
    register_midi: float  # MIDI pitch at the melody's centre
    seconds: float
    instruments: list[str] = Field(default_factory=list)


def measures(plan: dict, seconds: Optional[float] = None) -> PieceMeasures:
    """Measures of a plan (as stored JSON), weighted by each phrase's length."""
    segs = plan["segments"]
    total = sum(s["duration_s"] for s in segs) or 1.0

    def mean(key: str) -> float:
        return sum(s[key] * s["duration_s"] for s in segs) / total

    return PieceMeasures(bpm=round(mean("bpm"), 1), velocity=round(mean("velocity"), 1),
                         major=round(sum(s["duration_s"] for s in segs if s["mode"] == "major") / total, 3),
                         register_midi=round(mean("register_midi"), 1),
                         seconds=round(seconds if seconds is not None else plan["duration_s"], 1),
                         instruments=sorted(set(plan["instruments"].values())))


class MusicPrefs(BaseModel):
    """The session's standing requests; None means "follow the mood"."""

    model_config = ConfigDict(extra="forbid")
    bpm: Optional[float] = None  # mean tempo to aim at, beats per minute
    velocity: Optional[float] = None  # mean loudness to aim at, MIDI velocity
    mode: Optional[Literal["major", "minor"]] = None
    register_offset: int = 0  # semitones
    seconds: Optional[float] = None
    energy: int = Field(0, ge=-3, le=3)  # nudges the target's arousal
    avoid: list[str] = Field(default_factory=list)  # composer instrument names
    use: list[str] = Field(default_factory=list)  # composer instrument names, first leads


def _clip(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def apply_feedback(prefs: MusicPrefs, changes: dict[str, int], drop: list[str], use: list[str],
                   last: Optional[PieceMeasures], limits, *, crisis: bool = False,
                   default_seconds: float = 60.0, max_seconds: float = 600.0, seconds: Optional[float] = None,
                   bpm: Optional[float] = None) -> tuple[MusicPrefs, list[str]]:
    """The preferences after this feedback, and plain notes on anything not honoured in full.

    ``changes`` maps a dimension (tempo, energy, mode, loudness, length) to a
    signed size (1 a step, 2 a big step); ``last`` is the piece the feedback is
    about (None: the request describes a first piece, measured against the
    mood-led defaults when it is composed). ``seconds`` and ``bpm`` are amounts the person named ("like 15
    minutes", "around 70 bpm"): taken as said, within the same limits, over any step.
    """
    p = prefs.model_copy(deep=True)
    notes: list[str] = []
    if crisis:
        calming = {d: x for d, x in changes.items() if (d in {"tempo", "energy", "loudness"} and x < 0)
                   or d in {"mode", "length"}}
        if calming != changes:
            notes.append("For now I'm keeping the music slow and soft, to help you settle.")
        changes = calming
    base_bpm = last.bpm if last else None
    base_vel = last.velocity if last else None
    for dim, x in changes.items():
        sign, big = (1 if x > 0 else -1), abs(x) >= 2
        if dim == "tempo":
            anchor = base_bpm or p.bpm
            if anchor:
                p.bpm = anchor + sign * TEMPO_STEP * (5 / 3 if big else 1)
            else:  # a first piece described as fast or slow: lean the arc that way
                p.energy = max(-3, min(3, p.energy + sign))
        elif dim == "energy":
            p.energy = max(-3, min(3, p.energy + sign * (2 if big else 1)))
            if base_bpm:
                p.bpm = base_bpm + sign * ENERGY_TEMPO_STEP * (2 if big else 1)
                p.velocity = (base_vel or 70) + sign * ENERGY_VELOCITY_STEP
        elif dim == "loudness":
            step = LOUDNESS_STEP * (22 / 14 if big else 1)
            p.velocity = (base_vel or p.velocity or 70) + sign * step
        elif dim == "mode":
            want = "major" if sign > 0 else "minor"
            already = last is not None and ((last.major >= 0.75) if sign > 0 else (last.major <= 0.25))
            p.mode = want
            if already or big:
                p.register_offset = int(_clip(p.register_offset + sign * REGISTER_STEP, -12, 12))
        elif dim == "length":
            base = last.seconds if last else (p.seconds or default_seconds)
            factor = (2.0 if big else LONGER) if sign > 0 else (0.45 if big else SHORTER)
            p.seconds = round(base * factor)
    if seconds:
        p.seconds = float(seconds)
    if bpm and not crisis:
        p.bpm = float(bpm)
    if p.bpm is not None:
        wanted = p.bpm
        p.bpm = _clip(p.bpm, limits.min_bpm, limits.max_bpm)
        if abs(wanted - p.bpm) >= 1:
            notes.append(f"{p.bpm:.0f} beats a minute is as {'fast' if wanted > p.bpm else 'slow'} as your "
                         "settings allow.")
    if p.velocity is not None:
        wanted = p.velocity
        p.velocity = _clip(p.velocity, MIN_VELOCITY, limits.max_velocity)
        if abs(wanted - p.velocity) >= 1:
            notes.append(f"That is as {'loud' if wanted > p.velocity else 'soft'} as I can make it here.")
    if p.seconds is not None:
        wanted = p.seconds
        p.seconds = _clip(p.seconds, 20.0, max_seconds)
        if abs(wanted - p.seconds) >= 1:
            notes.append(f"{spoken_length(p.seconds)} is as {'long' if wanted > p.seconds else 'short'} "
                         "as a piece can be here.")
    for name in drop:
        if name not in p.avoid:
            p.avoid.append(name)
        if name in p.use:
            p.use.remove(name)
    if use:
        allowed = [n for n in use if limits.is_permitted(n)]
        if len(allowed) < len(use):
            notes.append("Your clinician's settings leave out " + ", ".join(n for n in use if n not in allowed) + ".")
        p.use = allowed or p.use
        p.avoid = [n for n in p.avoid if n not in use]
    return p, notes


def _tempo_word(up: bool) -> str:
    return "quicker" if up else "slower"


def describe_change(old: Optional[PieceMeasures], new: PieceMeasures, changes: dict[str, int],
                    drop: list[str], use: list[str]) -> str:
    """One sentence on what changed, with the numbers ("quicker: about 92 beats a minute instead of 76")."""
    if old is None:
        return ""
    parts: list[str] = []
    if "tempo" in changes or "energy" in changes:
        if abs(new.bpm - old.bpm) >= 4:
            parts.append(f"{_tempo_word(new.bpm > old.bpm)}: about {new.bpm:.0f} beats a minute instead of {old.bpm:.0f}")
    if "loudness" in changes or ("energy" in changes and abs(new.velocity - old.velocity) >= 6):
        if abs(new.velocity - old.velocity) >= 4:
            parts.append("louder" if new.velocity > old.velocity else "softer")
    if "mode" in changes:
        if changes["mode"] > 0:
            parts.append("in a major key" + (", with the melody a little higher" if new.register_midi > old.register_midi + 1 else ""))
        else:
            parts.append("in a minor key" + (", with the melody a little lower" if new.register_midi < old.register_midi - 1 else ""))
    if "length" in changes and abs(new.seconds - old.seconds) >= 5:
        parts.append(f"{'longer' if new.seconds > old.seconds else 'shorter'}: about {spoken_length(new.seconds)} "
                     f"instead of {spoken_length(old.seconds)}")
    gone = [n for n in drop if n in old.instruments and n not in new.instruments]
    if drop:
        parts.append("without the " + " or the ".join(dict.fromkeys(_family(n) for n in (gone or drop))))
    led = [n for n in use if n in new.instruments]
    if led:
        parts.append("with the " + _family(led[0]) + " leading")
    if not parts:
        return ""
    if len(parts) == 1:
        return f"This one is {parts[0]}."
    return f"This one is {', '.join(parts[:-1])}, and {parts[-1]}."


def _family(name: str) -> str:
    for word in ("piano", "guitar", "strings", "violin", "cello", "harp", "flute", "clarinet", "pad", "choir"):
        if word in name:
            return word
    return name
