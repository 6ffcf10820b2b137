"""Plan a piece: an iso-principle arc of segments, each with reasoned cues.

``plan_music`` turns a start and a target mood (valence, arousal, each in
[-1, 1]) and a length in seconds into a ``MusicPlan``: the first segment
matches the start mood (Altshuler 1948), every later segment moves toward the
target by a bounded step, the mode only changes at a segment (phrase)
boundary through a pivot chord, and the last segment settles (authentic
cadence, ritardando, fade). With a breathing rate, one breath spans a whole
number of bars exactly. Nothing here touches music21; ``compose`` does that.
"""

from __future__ import annotations

import math
import random
from typing import Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attune.common.errors import InputError

from .cues import CUE_WEIGHTS, REASONS, TIMBRE_BRIGHTNESS, cues_for, perceived
from .limits import MusicLimits, gm_program

__all__ = [
    "MAX_SECONDS",
    "MIN_SECONDS",
    "MAX_TEMPO_STEP_BPM",
    "MAX_REGISTER_STEP",
    "MAX_ARTICULATION_STEP",
    "RITARDANDO",
    "Adjust",
    "BreathPacing",
    "Mood",
    "Segment",
    "MusicPlan",
    "KEY_PAIRS",
    "mood_words",
    "plan_music",
]

MAX_SECONDS = 600.0  # seconds; longer requests are capped with a note
MIN_SECONDS = 8.0  # seconds; shorter positive requests are lengthened with a note
PHRASE_BARS = 4  # bars per phrase (one segment is one phrase)
MAX_TEMPO_STEP_BPM = 8.0  # beats per minute, largest tempo change between segments
MAX_REGISTER_STEP = 3  # semitones, largest melody-centre change between segments
MAX_ARTICULATION_STEP = 0.08  # note-length fraction, largest change between segments
MAX_TEMPO_SCALE = 1.2  # largest factor by which tempos are stretched to fit the length
RITARDANDO = (1.0, 1.0, 0.92, 0.8)  # tempo factor per bar of the final phrase
ARC_SHARE = 0.75  # share of the segments used to travel; the rest settles at the target
HEART_RATE_RANGE = (30.0, 220.0)  # beats per minute accepted as a heart rate
BREATH_RANGE = (2.0, 20.0)  # breaths per minute accepted

# (major tonic, relative minor tonic), music21 spelling; the seed picks one.
KEY_PAIRS = [("C", "A"), ("G", "E"), ("F", "D"), ("D", "B"), ("B-", "G"), ("E-", "C")]

# Candidate instruments per role, chosen by timbre brightness.
MELODY_POOL = ["piano", "flute", "cello", "vibraphone", "harp", "violin", "clarinet",
               "guitar", "oboe", "electric piano", "celesta", "viola"]
HARMONY_POOL = {
    "pad": ["warm pad", "strings", "slow strings", "pad", "choir pad", "choir", "organ", "halo pad"],
    "arpeggio": ["harp", "piano", "guitar", "vibraphone", "electric piano", "marimba", "celesta"],
    "block": ["piano", "strings", "guitar", "electric piano", "organ", "marimba"],
}
BASS_POOL = ["cello", "contrabass", "bass", "strings", "piano", "bassoon", "slow strings"]

Texture = Literal["pad", "arpeggio", "block"]
Mode = Literal["major", "minor"]


class Mood(BaseModel):
    """A point in the circumplex: both values in [-1, 1]."""

    model_config = ConfigDict(extra="forbid")
    valence: float = Field(ge=-1.0, le=1.0, description="unpleasant -1 .. pleasant +1")
    arousal: float = Field(ge=-1.0, le=1.0, description="calm -1 .. activated +1")


class Adjust(BaseModel):
    """What the person asked to change, applied on top of the mood-led cues.

    Offsets move the whole arc, so the piece still starts near the person's
    mood and travels toward the target (iso principle); the profile's limits
    still bound every value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    bpm_offset: float = Field(0.0, ge=-80, le=80)  # beats per minute added to every phrase
    velocity_offset: int = Field(0, ge=-60, le=60)  # MIDI velocity added to every phrase
    register_offset: int = Field(0, ge=-12, le=12)  # semitones added to the melody's centre
    mode: Literal["major", "minor"] | None = None  # every phrase in this mode


class BreathPacing(BaseModel):
    """How the music paces breathing: one breath is ``bars_per_breath`` bars exactly."""

    model_config = ConfigDict(extra="forbid")
    breaths_per_minute: float
    breath_s: float  # seconds per breath (inhale + exhale) = 60 / breaths_per_minute
    beats_per_bar: int
    bars_per_breath: int
    bpm: float  # beats per minute = beats_per_bar * bars_per_breath * breaths_per_minute
    reason: str


class Segment(BaseModel):
    """One phrase of the arc. ``reasons`` holds one sentence per parameter."""

    model_config = ConfigDict(extra="forbid")
    index: int
    start_s: float  # seconds from the start of the piece
    duration_s: float  # seconds
    bars: int
    beats_per_bar: int
    bpm: float  # main tempo, beats per minute
    bar_bpm: list[float]  # tempo of each bar (differs only in a ritardando)
    valence: float  # the arc point this segment aims at
    arousal: float
    tonic: str  # music21 spelling, e.g. "B-"
    mode: Mode
    register_midi: int  # MIDI pitch at the centre of the melody (register cue)
    velocity: int  # mean MIDI velocity
    articulation: float  # sounding fraction of each note's slot (0.5 staccato .. 1 legato)
    chords_per_bar: int  # harmonic rhythm
    complexity: float  # 0 plain .. 1 busy (sevenths, faster rhythm)
    texture: Texture
    contour: float  # melodic slope, -1 falling .. +1 rising
    range_semitones: float
    pivot_chord: str | None = None  # set when this segment enters a new mode
    cadence: Literal["authentic", "half"]
    ending: bool = False  # the settling phrase: ritardando and fade
    perceived_valence: float  # expected feel by the additive cue model
    perceived_arousal: float
    reasons: dict[str, str]

    @property
    def key(self) -> str:
        return f"{self.tonic.replace('-', 'b')} {self.mode}"


class MusicPlan(BaseModel):
    """Everything ``compose`` needs, with the reason behind every choice."""

    model_config = ConfigDict(extra="forbid")
    start: Mood
    target: Mood
    seconds: float  # requested length after capping, seconds
    duration_s: float  # planned length, seconds (sum of segment lengths)
    segments: list[Segment]
    instruments: dict[str, str]  # role (melody, harmony, bass) -> instrument name
    programs: dict[str, int]  # role -> General MIDI program (0-127)
    breathing: BreathPacing | None = None
    heart_rate: float | None = None  # beats per minute, if given
    seed: int = 0
    limits: MusicLimits = Field(default_factory=MusicLimits)
    notes: list[str] = Field(default_factory=list)
    reasons: dict[str, str] = Field(default_factory=dict)  # plan-wide reasons

    @model_validator(mode="after")
    def _has_segments(self) -> "MusicPlan":
        if not self.segments:
            raise ValueError("A plan needs at least one segment.")
        return self

    def tempo_curve(self) -> list[float]:
        """Main tempo of each segment, beats per minute."""
        return [s.bpm for s in self.segments]

    def summary(self) -> str:
        first, last = self.segments[0], self.segments[-1]
        tempos = " -> ".join(f"{t:.0f}" for t in self.tempo_curve())
        return (f"{self.duration_s:.1f} s in {len(self.segments)} phrases; {first.key} -> {last.key}; "
                f"tempo {tempos} BPM; velocity {first.velocity} -> {last.velocity}; "
                f"{', '.join(f'{r}: {n}' for r, n in self.instruments.items())}")

    def explain(self, toward: str | None = None) -> list[str]:
        """Plain-language lines for a "why this music" card; ``toward`` names the destination in the session's
        own words ("focused and steady"), which the reply that brought the piece used too."""
        first, last = self.segments[0], self.segments[-1]
        lines = [
            f"The music starts close to how you feel now ({mood_words(self.start)}) and moves "
            f"step by step toward {toward or mood_words(self.target)} over {len(self.segments)} phrases "
            f"(about {spoken_length(self.duration_s)}). Meeting you first and changing gradually is "
            "the iso principle (Altshuler 1948).",
            f"Key: {first.key} at the start, {last.key} at the end. {REASONS['mode']}",
            f"Tempo: {first.bpm:.0f} to {last.bpm:.0f} beats per minute, never changing by more "
            f"than {MAX_TEMPO_STEP_BPM:.0f} between phrases. {REASONS['tempo']}",
            f"Pitch: the melody centres around {_pitch_name(first.register_midi)} at first and "
            f"{_pitch_name(last.register_midi)} at the end. {REASONS['register']}",
            f"Loudness: from {_loudness_word(first.velocity)} to {_loudness_word(last.velocity)}. "
            f"{REASONS['dynamics']}",
            f"Touch: notes are {_articulation_word(first.articulation)} at first and "
            f"{_articulation_word(last.articulation)} at the end. {REASONS['articulation']}",
            f"Instruments: {', '.join(f'{n} ({r})' for r, n in self.instruments.items())}. "
            f"{REASONS['timbre']}",
        ]
        pivots = [s for s in self.segments if s.pivot_chord]
        for s in pivots:
            lines.append(f"At phrase {s.index + 1} the music turns to {s.key} through a shared "
                         f"chord ({s.pivot_chord}), so the change of colour is smooth.")
        if self.breathing:
            lines.append(self.breathing.reason)
        if self.heart_rate is not None:
            lines.append(self.reasons.get("heart_rate", ""))
        lines.append("The last phrase settles: a full cadence home, a gentle slowing and a fade.")
        lines.extend(self.notes)
        return [line for line in lines if line]


# ---------------------------------------------------------------- helpers

_MOOD_WORDS = {  # (valence side, arousal side) -> plain words; -1 low, 0 middle, 1 high
    (-1, -1): "low and quiet", (-1, 0): "low", (-1, 1): "tense and on edge",
    (0, -1): "calm", (0, 0): "somewhere in the middle", (0, 1): "keyed up",
    (1, -1): "content and calm", (1, 0): "bright", (1, 1): "bright and lively",
}


def spoken_length(seconds: float) -> str:
    """ "90 seconds", "10 minutes", "2.5 minutes": a length as a person says it."""
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    return f"{round(seconds / 30) / 2:g} minutes"


def mood_words(m: Mood) -> str:
    """Plain words for a point of the mood plane, e.g. "tense and on edge" (never "steady" for a stressed mood, nor "low")."""
    side = lambda x: -1 if x < -0.25 else 1 if x > 0.25 else 0  # noqa: E731
    return _MOOD_WORDS[(side(m.valence), side(m.arousal))]


def _pitch_name(midi: int) -> str:
    names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    return f"{names[midi % 12]}{midi // 12 - 1}"


def _loudness_word(velocity: int) -> str:
    for limit, word in ((45, "very soft"), (60, "soft"), (75, "medium soft"), (90, "medium loud")):
        if velocity < limit:
            return word
    return "loud"


def _articulation_word(fraction: float) -> str:
    return "smoothly connected" if fraction >= 0.85 else "gently separated" if fraction >= 0.7 else "short and detached"


def _step(prev: float, want: float, bound: float) -> float:
    """Move from ``prev`` toward ``want`` by at most ``bound``."""
    return prev + max(-bound, min(bound, want - prev))


def _check_number(name: str, value: float | None, lo: float, hi: float, unit: str) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or math.isnan(value) or not lo <= value <= hi:
        raise InputError(f"The {name} must be a number from {lo:g} to {hi:g}{unit}; got {value!r}.")


def _pick(pool: Sequence[str], limits: MusicLimits, brightness: float, avoid: set[str]) -> str:
    allowed = [n for n in pool if limits.is_permitted(n) and n not in avoid]
    if not allowed:
        allowed = [n for n in limits.permitted() if n not in avoid] or limits.permitted()
    return min(allowed, key=lambda n: (abs(TIMBRE_BRIGHTNESS.get(n, 0.0) - brightness), n))


def _instruments(chosen: Sequence[str] | None, limits: MusicLimits, v: float, a: float,
                 texture: str) -> dict[str, str]:
    roles = ["melody", "harmony", "bass"]
    if chosen:
        names = []
        for name in chosen:
            try:
                gm_program(name)
            except ValueError as exc:
                raise InputError(str(exc)) from None
            if not limits.is_permitted(name):
                raise InputError(f"The instrument {name!r} is not allowed by the current music "
                                 f"limits. Allowed: {', '.join(limits.permitted())}.")
            names.append(" ".join(name.strip().lower().replace("_", " ").replace("-", " ").split()))
        return {role: names[i % len(names)] for i, role in enumerate(roles)}
    bright = 0.6 * v + 0.4 * a
    melody = _pick(MELODY_POOL, limits, bright, set())
    harmony = _pick(HARMONY_POOL[texture], limits, bright - 0.2, {melody})
    bass = _pick(BASS_POOL, limits, -0.6, {melody})
    return {"melody": melody, "harmony": harmony, "bass": bass}


def _breathing(bpm_wanted: float, breaths: float, limits: MusicLimits) -> BreathPacing:
    """Choose a meter and bars per breath so one breath is a whole number of bars."""
    options = []
    for bars_per_breath in (4, 2, 1):
        for beats in (4, 3, 2):
            bpm = beats * bars_per_breath * breaths
            if limits.min_bpm <= bpm <= limits.max_bpm:
                # prefer a four-bar breath (one phrase per breath), then closeness in tempo
                options.append((bars_per_breath != 4, abs(bpm - bpm_wanted), beats, bars_per_breath, bpm))
    if not options:
        raise InputError(
            f"No tempo between {limits.min_bpm:g} and {limits.max_bpm:g} BPM lets a breath at "
            f"{breaths:g} per minute span whole bars; try a rate between 4 and 8 per minute.")
    _, _, beats, bars_per_breath, bpm = min(options)
    breath_s = 60.0 / breaths
    return BreathPacing(
        breaths_per_minute=breaths, breath_s=breath_s, beats_per_bar=beats,
        bars_per_breath=bars_per_breath, bpm=bpm,
        reason=(f"Breathing guide: one breath ({breath_s:.1f} s, {breaths:g} per minute) spans "
                f"{bars_per_breath} bars of {beats}/4 at {bpm:g} BPM; the music swells as you breathe "
                "in and eases as you breathe out. Slow breathing near 6 per minute is linked to better "
                "mood and lower blood pressure (Steffen et al. 2017)."),
    )


# ---------------------------------------------------------------- planner

def plan_music(
    start: tuple[float, float] | Mood,
    target: tuple[float, float] | Mood,
    seconds: float,
    limits: MusicLimits | None = None,
    breaths_per_minute: float | None = None,
    heart_rate: float | None = None,
    seed: int = 0,
    instruments: Sequence[str] | None = None,
    tonics: tuple[str, str] | None = None,
    adjust: Adjust | None = None,
) -> MusicPlan:
    """Plan a piece that moves from ``start`` to ``target`` (valence, arousal) in ``seconds``.

    ``seconds`` above ``MAX_SECONDS`` are capped and below ``MIN_SECONDS`` raised,
    each with a note; zero, negative or non-numbers raise ``InputError``.
    ``heart_rate`` (beats per minute) sets the opening tempo near it.
    ``breaths_per_minute`` fixes the tempo so a breath spans whole bars.
    ``tonics`` (one of ``KEY_PAIRS``) keeps the key of an earlier piece, so a
    sequence of pieces stays in one key; otherwise the seed picks it.
    ``adjust`` applies what the person asked to change (faster, brighter, softer).
    """
    adjust = adjust or Adjust()
    limits = limits or MusicLimits()
    start_m, target_m = _mood(start, "start"), _mood(target, "target")
    notes: list[str] = []
    if not isinstance(seconds, (int, float)) or math.isnan(seconds) or seconds <= 0:
        raise InputError(f"The length must be a positive number of seconds; got {seconds!r}.")
    if seconds > MAX_SECONDS:
        notes.append(f"The requested length ({seconds:g} s) was capped to {MAX_SECONDS:g} seconds.")
        seconds = MAX_SECONDS
    elif seconds < MIN_SECONDS:
        notes.append(f"The requested length ({seconds:g} s) was raised to {MIN_SECONDS:g} seconds, "
                     "the shortest phrase that can settle.")
        seconds = MIN_SECONDS
    _check_number("heart rate", heart_rate, *HEART_RATE_RANGE, " beats per minute")
    _check_number("breathing rate", breaths_per_minute, *BREATH_RANGE, " breaths per minute")
    if not isinstance(seed, int):
        raise InputError(f"The seed must be a whole number; got {seed!r}.")
    if tonics is not None and tuple(tonics) not in KEY_PAIRS:
        raise InputError(f"The key pair must be one of {KEY_PAIRS}; got {tonics!r}.")

    rng = random.Random(seed)
    major_tonic, minor_tonic = KEY_PAIRS[rng.randrange(len(KEY_PAIRS))]  # drawn always: a seed stays reproducible
    if tonics is not None:
        major_tonic, minor_tonic = tonics
    c0, c1 = cues_for(start_m.valence, start_m.arousal), cues_for(target_m.valence, target_m.arousal)
    plan_reasons: dict[str, str] = {}

    open_bpm = c0.bpm
    if heart_rate is not None:
        open_bpm = limits.clip_bpm(heart_rate)
        plan_reasons["heart_rate"] = (
            f"Your heart rate ({heart_rate:g} BPM) sets the opening tempo ({open_bpm:.0f} BPM), then the "
            "tempo leads gently toward the target; music tempo influences heart rate and breathing "
            "(Bernardi et al. 2006).")
    open_bpm = limits.clip_bpm(open_bpm + adjust.bpm_offset)
    target_bpm = limits.clip_bpm(c1.bpm + adjust.bpm_offset)

    breath = None
    beats_per_bar = 4
    if breaths_per_minute is not None:
        breath = _breathing((open_bpm + target_bpm) / 2, breaths_per_minute, limits)
        beats_per_bar = breath.beats_per_bar

    mid_v = (start_m.valence + target_m.valence) / 2
    mid_a = (start_m.arousal + target_m.arousal) / 2
    roles = _instruments(instruments, limits, mid_v, mid_a, cues_for(mid_v, mid_a).texture)
    timbre = sum(TIMBRE_BRIGHTNESS.get(x, 0.0) for x in roles.values()) / len(roles)
    tempo_step = MAX_TEMPO_STEP_BPM / MAX_TEMPO_SCALE  # leaves room for stretching to fit

    def arc(n: int) -> list[dict]:
        """Cues for ``n`` phrases: the first matches the start, each later one steps toward the target."""
        travel = max(1, math.ceil((n - 1) * ARC_SHARE))
        if n >= 3:  # the last phrase only settles: no key change inside the ending
            travel = min(travel, n - 2)
        raw: list[dict] = []
        for k in range(n):
            f = min(1.0, k / travel) if n > 1 else 0.0
            v = start_m.valence + f * (target_m.valence - start_m.valence)
            a = start_m.arousal + f * (target_m.arousal - start_m.arousal)
            c = cues_for(v, a)
            want_bpm = open_bpm + f * (target_bpm - open_bpm)
            want_vel = limits.clip_velocity(c.velocity + adjust.velocity_offset)
            want_reg = c.register + adjust.register_offset
            if k == 0:
                bpm, vel, reg, art = open_bpm, want_vel, round(want_reg), c.articulation
            else:
                p = raw[-1]
                bpm = _step(p["bpm"], want_bpm, tempo_step)
                vel = round(_step(p["velocity"], want_vel, limits.max_velocity_step))
                reg = round(_step(p["register"], want_reg, MAX_REGISTER_STEP))
                art = _step(p["articulation"], c.articulation, MAX_ARTICULATION_STEP)
            raw.append(dict(v=v, a=a, c=c, bpm=limits.clip_bpm(bpm), velocity=limits.clip_velocity(vel),
                            register=reg, articulation=round(art, 3)))
        return raw

    # number of phrases: the count whose natural length is closest to the request
    if breath:
        n = max(1, round(seconds / (PHRASE_BARS * beats_per_bar * 60.0 / breath.bpm)))
    else:
        guess = max(1, round(seconds / (PHRASE_BARS * beats_per_bar * 60.0 / ((open_bpm + target_bpm) / 2))))
        def natural(n: int) -> float:
            return sum(PHRASE_BARS * beats_per_bar * 60.0 / r["bpm"] for r in arc(n))
        n = min(range(max(1, guess - 3), guess + 4), key=lambda m: abs(math.log(natural(m) / seconds)))
    raw = arc(n)

    # stretch tempos (bounded) so the piece fills the requested length
    def bar_tempi(k: int, bpm: float) -> list[float]:
        if k == n - 1 and breath is None:
            return [limits.clip_bpm(bpm * r) for r in RITARDANDO]
        return [bpm] * PHRASE_BARS

    def total(scale: float) -> float:
        return sum(beats_per_bar * 60.0 / t for k, r in enumerate(raw)
                   for t in bar_tempi(k, limits.clip_bpm(r["bpm"] * scale)))

    scale = 1.0
    if breath is None:
        for _ in range(4):  # clipping to limits makes this slightly nonlinear
            scale = min(max(scale * total(scale) / seconds, 1 / MAX_TEMPO_SCALE), MAX_TEMPO_SCALE)
        for r in raw:
            r["bpm"] = round(limits.clip_bpm(r["bpm"] * scale), 2)
        # one phrase may move the tempo by the bound at most, even after stretching and clipping
        for i in range(1, n):
            raw[i]["bpm"] = round(_step(raw[i - 1]["bpm"], raw[i]["bpm"], MAX_TEMPO_STEP_BPM), 2)
    else:
        for r in raw:
            r["bpm"] = breath.bpm

    segments: list[Segment] = []
    t = 0.0
    prev_mode = None
    for k, r in enumerate(raw):
        c = r["c"]
        mode = adjust.mode or c.mode
        tonic = major_tonic if mode == "major" else minor_tonic
        pivot = None
        if prev_mode is not None and mode != prev_mode:
            pivot = _pivot_name(major_tonic, minor_tonic, prev_mode)
        prev_mode = mode
        tempi = [round(x, 2) for x in bar_tempi(k, r["bpm"])]
        dur = sum(beats_per_bar * 60.0 / x for x in tempi)
        ending = k == n - 1
        pv, pa = perceived(mode, r["bpm"], r["register"], r["velocity"], r["articulation"], timbre)
        step_note = ("It matches your current mood (iso principle, Altshuler 1948)." if k == 0 else
                     "It moves one bounded step toward the target (iso principle, Altshuler 1948).")
        reasons = {
            "mode": f"{tonic.replace('-', 'b')} {mode}. {REASONS['mode']}",
            "tempo": f"{r['bpm']:.0f} BPM. {REASONS['tempo']} {step_note}",
            "register": f"Melody around {_pitch_name(r['register'])}. {REASONS['register']}",
            "dynamics": f"Velocity {r['velocity']} (ceiling {limits.max_velocity}). {REASONS['dynamics']}",
            "articulation": f"Notes sound for {r['articulation']:.0%} of their length. {REASONS['articulation']}",
            "harmony": f"{c.chords_per_bar} chord(s) per bar, complexity {c.complexity:.2f}. {REASONS['harmony']}",
            "texture": f"{c.texture.capitalize()} accompaniment. {REASONS['texture']}",
            "contour": f"Contour slope {c.contour:+.2f}, range {c.range_semitones:.0f} semitones. {REASONS['contour']}",
        }
        if pivot:
            reasons["pivot"] = (f"The mode changes only at a phrase boundary, through {pivot}, a chord that "
                                "belongs to both keys, so the change is smooth.")
        if ending:
            reasons["ending"] = ("The last phrase ends on a full (authentic) cadence, slows down and fades, "
                                 "so the piece settles instead of stopping abruptly.")
        segments.append(Segment(
            index=k, start_s=round(t, 4), duration_s=round(dur, 4), bars=PHRASE_BARS,
            beats_per_bar=beats_per_bar, bpm=r["bpm"], bar_bpm=tempi, valence=round(r["v"], 3),
            arousal=round(r["a"], 3), tonic=tonic, mode=mode, register_midi=r["register"],
            velocity=r["velocity"], articulation=r["articulation"], chords_per_bar=c.chords_per_bar,
            complexity=round(c.complexity, 3), texture=c.texture, contour=round(c.contour, 3),
            range_semitones=round(c.range_semitones, 1), pivot_chord=pivot,
            cadence="authentic" if ending or k % 2 == 1 or (adjust.mode is None and _next_mode_differs(raw, k)) else "half",
            ending=ending, perceived_valence=pv, perceived_arousal=pa, reasons=reasons,
        ))
        t += dur

    duration = round(t, 4)
    if abs(duration - seconds) / seconds > 0.02:
        notes.append(f"Whole phrases at the chosen tempo last {duration:.1f} s, not exactly the "
                     f"requested {seconds:g} s.")
    if n == 1 and (start_m != target_m):
        notes.append("The piece is too short to travel; it stays with the starting mood.")
    plan_reasons["weights"] = ("Cue weights, highest first: " + ", ".join(
        f"{k} {w:.2f}" for k, w in CUE_WEIGHTS.items()) + " (Eerola, Friberg & Bresin 2013); they add up.")
    plan_reasons["percussion"] = "No percussion: drums are always off in these limits."
    return MusicPlan(
        start=start_m, target=target_m, seconds=float(seconds), duration_s=duration, segments=segments,
        instruments=roles, programs={r: gm_program(x) for r, x in roles.items()}, breathing=breath,
        heart_rate=heart_rate, seed=seed, limits=limits, notes=notes, reasons=plan_reasons,
    )


def _next_mode_differs(raw: list[dict], k: int) -> bool:
    return k + 1 < len(raw) and raw[k + 1]["c"].mode != raw[k]["c"].mode


def _pivot_name(major_tonic: str, minor_tonic: str, from_mode: str) -> str:
    """The supertonic of the major key is the subdominant of its relative minor."""
    from .theory import pivot_root  # small, music21-free helper

    root = pivot_root(major_tonic)
    major, minor = major_tonic.replace("-", "b"), minor_tonic.replace("-", "b")
    return f"{root} minor (ii in {major} major = iv in {minor} minor)"


def _mood(value: tuple[float, float] | Mood, name: str) -> Mood:
    if isinstance(value, Mood):
        return value
    try:
        v, a = value
    except (TypeError, ValueError):
        raise InputError(f"The {name} mood must be a (valence, arousal) pair; got {value!r}.") from None
    for label, x in (("valence", v), ("arousal", a)):
        if not isinstance(x, (int, float)) or math.isnan(x) or not -1.0 <= x <= 1.0:
            raise InputError(f"The {name} {label} must be a number from -1 to 1; got {x!r}.")
    return Mood(valence=float(v), arousal=float(a))


