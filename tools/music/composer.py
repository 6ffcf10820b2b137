"""Compose a ``MusicPlan`` into a music21 score.

Phrases of four bars (one per segment), a melody whose contour follows the
mood (rising and wide when bright, falling and stepwise when low), diatonic
harmony voiced for smooth voice leading with a cadence at every phrase end, a
bass line, and a pad, arpeggio or block-chord accompaniment. Chord symbols
are added for MusicXML. Deterministic for a given plan (``random.Random``
seeded from ``plan.seed``). Writing files is left to ``output``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .plan import MusicPlan, Segment
from .theory import Chord, Key

__all__ = ["Event", "Arrangement", "arrange", "compose"]

SWELL_DEPTH = 0.35  # velocity swing (fraction) across one breath: inhale up, exhale down
FADE_TO = 0.55  # velocity factor reached at the end of the final phrase
PHRASE_ARCH = 0.08  # velocity rise (fraction) in the middle of each phrase
HARMONY_RANGE = (52, 76)  # MIDI pitches for accompaniment voicings
BASS_RANGE = (36, 52)  # MIDI pitches for the bass
GRID = 0.25  # quarter lengths: smallest sounding length (a sixteenth)

# Melody rhythms per bar, in quarter lengths, by beats per bar and density level.
RHYTHMS: dict[tuple[int, int], list[list[float]]] = {
    (4, 0): [[2, 2], [2, 1, 1], [3, 1], [1, 1, 2]],
    (4, 1): [[1, 1, 1, 1], [1.5, 0.5, 1, 1], [1, 1, 2], [1, 0.5, 0.5, 2]],
    (4, 2): [[0.5] * 8, [1, 0.5, 0.5, 1, 0.5, 0.5], [0.5, 0.5, 1, 0.5, 0.5, 1]],
    (3, 0): [[2, 1], [3], [1, 2]],
    (3, 1): [[1, 1, 1], [2, 1], [1.5, 0.5, 1]],
    (3, 2): [[0.5, 0.5, 1, 1], [1, 0.5, 0.5, 0.5, 0.5], [0.5] * 6],
    (2, 0): [[2], [1, 1]],
    (2, 1): [[1, 1], [1.5, 0.5]],
    (2, 2): [[0.5] * 4, [0.5, 0.5, 1]],
}

# Bar-level chord degrees per phrase kind; X and Y are chosen by the seed.
_FOLLOW = {"major": {1: 6, 4: 2, 6: 4, 2: 5, 5: 5}, "minor": {1: 4, 4: 4, 6: 4, 2: 5, 5: 5}}


@dataclass
class Event:
    """One note or chord: offset and length in quarter lengths, MIDI pitches and velocity."""

    part: str  # "melody" | "harmony" | "bass"
    offset: float  # quarter lengths from the start
    length: float  # quarter lengths
    pitches: tuple[int, ...]
    velocity: int
    names: tuple[str, ...] = ()  # spelled pitch names (music21), same order as pitches


@dataclass
class Arrangement:
    """A composed piece before it becomes a music21 score."""

    events: list[Event] = field(default_factory=list)
    chords: list[tuple[float, str]] = field(default_factory=list)  # (offset, figure)
    tempos: list[tuple[float, float]] = field(default_factory=list)  # (offset, bpm)
    keys: list[tuple[float, str, str]] = field(default_factory=list)  # (offset, tonic, mode)
    beats_per_bar: int = 4
    length: float = 0.0  # quarter lengths


def _progression(seg: Segment, rng: random.Random, first: bool) -> list[list[tuple[int, bool]]]:
    """Chords for each bar of the phrase: (degree, seventh) pairs."""
    minor = seg.mode == "minor"
    sev = seg.complexity > 0.55
    if seg.pivot_chord:
        pivot = 4 if minor else 2
        bars = [pivot, 5, 5, 1]
    elif seg.cadence == "authentic" or first:
        x = rng.choice([4, 6] if minor else [4, 6, 2])
        bars = [1, x, 5, 1]
    else:
        x = rng.choice([6, 4])
        y = 4 if minor or x == 4 else rng.choice([2, 4])
        bars = [1, x, y, 5]
    out = []
    for i, d in enumerate(bars):
        last = i == len(bars) - 1
        if seg.chords_per_bar == 2 and not (last and d == 1):
            follow = _FOLLOW[seg.mode][d]
            out.append([(d, sev and d == 5), (follow, (sev and follow in (2, 5)) or follow == 5 and d == 5)])
        else:
            out.append([(d, (sev or seg.ending) and d == 5 and not last)])
    return out


def _voicings(ch: Chord, size: int) -> list[tuple[int, ...]]:
    lo, hi = HARMONY_RANGE
    pcs = list(ch.pcs)[:size] if len(ch.pcs) >= size else list(ch.pcs)
    out = []
    for inv in range(len(pcs)):
        order = pcs[inv:] + pcs[:inv]
        for base in range(lo, lo + 12):
            if base % 12 != order[0]:
                continue
            notes = [base]
            for pc in order[1:]:
                p = notes[-1] + 1
                while p % 12 != pc:
                    p += 1
                notes.append(p)
            if notes[-1] <= hi:
                out.append(tuple(notes))
            if notes[-1] + 12 <= hi:
                out.append(tuple(n + 12 for n in notes))
    return out


def _voice(ch: Chord, prev: tuple[int, ...] | None) -> tuple[int, ...]:
    options = _voicings(ch, len(ch.pcs))
    if prev is None:
        return min(options, key=lambda v: abs(sum(v) / len(v) - 62))
    def cost(v: tuple[int, ...]) -> float:
        # smallest total movement between matching voices (outer voices weigh more)
        m = min(len(v), len(prev))
        return sum(abs(a - b) for a, b in zip(sorted(v)[:m], sorted(prev)[:m])) + abs(v[-1] - prev[-1])
    return min(options, key=cost)


def _bass_note(ch: Chord, prev: int | None) -> int:
    lo, hi = BASS_RANGE
    options = [p for p in range(lo, hi + 1) if p % 12 == ch.pcs[0]]
    if prev is None:
        return options[0] if options[0] >= 40 else options[min(1, len(options) - 1)]
    return min(options, key=lambda p: (abs(p - prev), p))


def _quantise(x: float) -> float:
    return max(GRID, round(x / GRID) * GRID)


def arrange(plan: MusicPlan) -> Arrangement:
    """Compose the plan into timed events (no music21 involved)."""
    rng = random.Random(plan.seed)
    limits = plan.limits
    bpb = plan.segments[0].beats_per_bar
    arr = Arrangement(beats_per_bar=bpb)
    breath_ql = None
    if plan.breathing:
        breath_ql = plan.breathing.bars_per_breath * bpb
    total_ql = sum(s.bars * s.beats_per_bar for s in plan.segments)
    prev_voicing: tuple[int, ...] | None = None
    prev_bass: int | None = None
    prev_mel: int | None = None
    offset = 0.0

    def dyn(base: float, at: float, seg: Segment, seg_start: float) -> int:
        seg_len = seg.bars * seg.beats_per_bar
        x = (at - seg_start) / seg_len
        f = 1.0 + PHRASE_ARCH * math.sin(math.pi * x)
        if breath_ql:
            phase = (at % breath_ql) / breath_ql
            f *= 1.0 - SWELL_DEPTH / 2 + SWELL_DEPTH * (1.0 - abs(2.0 * phase - 1.0))
        if seg.ending:
            f *= 1.0 - (1.0 - FADE_TO) * x
        return max(1, min(limits.max_velocity, round(base * f)))

    for si, seg in enumerate(plan.segments):
        key = Key(seg.tonic, seg.mode)
        seg_start = offset
        arr.keys.append((offset, seg.tonic, seg.mode))
        for b, bpm in enumerate(seg.bar_bpm):
            if not arr.tempos or arr.tempos[-1][1] != bpm:
                arr.tempos.append((offset + b * bpb, bpm))
        bars = _progression(seg, rng, si == 0)
        density = 0 if seg.arousal < -0.35 else 2 if seg.arousal > 0.4 else 1
        lo_m = seg.register_midi - seg.range_semitones / 2
        hi_m = seg.register_midi + seg.range_semitones / 2
        leap_ok = seg.contour > 0.2
        seg_len = seg.bars * bpb
        for bi, bar_chords in enumerate(bars):
            bar_start = offset + bi * bpb
            slot = bpb / len(bar_chords)
            last_bar = bi == len(bars) - 1
            for ci, (deg, sev) in enumerate(bar_chords):
                ch = key.chord(deg, sev)
                at = bar_start + ci * slot
                arr.chords.append((at, ch.figure))
                voicing = _voice(ch, prev_voicing)
                prev_voicing = voicing
                names = tuple(key.name_of(p % 12) if deg not in (5, 7) else _name_in(ch, p) for p in voicing)
                hv = seg.velocity * (0.7 if seg.texture == "pad" else 0.8)
                _accompany(arr, seg, at, slot, voicing, names, hv, dyn, seg_start, last_bar)
                bass = _bass_note(ch, prev_bass)
                prev_bass = bass
                bv = seg.velocity * 0.85
                if seg.complexity > 0.6 and slot >= 2 and not last_bar:
                    half = slot / 2
                    fifth = bass + 7 if bass + 7 <= BASS_RANGE[1] + 5 else bass - 5
                    for j, p in enumerate((bass, fifth)):
                        arr.events.append(Event("bass", at + j * half, half, (p,), dyn(bv, at + j * half, seg, seg_start),
                                                (ch.names[0] if j == 0 else ch.names[2],)))
                else:
                    arr.events.append(Event("bass", at, slot, (bass,), dyn(bv, at, seg, seg_start), (ch.names[0],)))
            # melody for this bar
            rhythm = [float(bpb)] if last_bar else list(rng.choice(RHYTHMS[(bpb, density)]))
            t = bar_start
            for ni, dur in enumerate(rhythm):
                x = (t + dur / 2 - seg_start) / seg_len  # position in phrase, 0..1
                chord_i = min(int((t - bar_start) // slot), len(bar_chords) - 1)
                deg, sev = bar_chords[chord_i]
                ch = key.chord(deg, sev)
                strong = (t - bar_start) % 2 == 0 or dur >= 1.5
                scale = key.scale_pcs(leading_tone=deg in (5, 7))
                pcs = ch.pcs if strong else scale
                if last_bar:
                    cad = key.tonic_pc if seg.cadence == "authentic" or seg.pivot_chord else scale[1]
                    pcs = (cad,)
                goal = seg.register_midi + seg.contour * seg.range_semitones * (x - 0.5)
                if seg.contour > 0.2:  # a bright arch: rise, then return for the cadence
                    goal += 0.25 * seg.range_semitones * math.sin(math.pi * x)
                cands = [p for p in range(int(lo_m) - 3, int(hi_m) + 4) if p % 12 in pcs]
                step_w = 0.35 if leap_ok else 0.9

                def score(p: int) -> float:
                    s = abs(p - goal)
                    if prev_mel is not None:
                        jump = abs(p - prev_mel)
                        s += step_w * jump + (1.5 if jump == 0 else 0) + (4 if jump in (6, 10, 11) or jump > 12 else 0)
                    return s + rng.random() * 1.2

                p = min(cands, key=score)
                prev_mel = p
                sounding = dur if (last_bar or seg.articulation >= 0.9) else min(dur, _quantise(dur * seg.articulation))
                arr.events.append(Event("melody", t, sounding, (p,), dyn(seg.velocity * 1.05, t, seg, seg_start),
                                        (_name_in_key(key, p, deg),)))
                t += dur
        offset += seg_len
    arr.length = total_ql
    return arr


def _name_in(ch: Chord, p: int) -> str:
    for pc, name in zip(ch.pcs, ch.names):
        if pc == p % 12:
            return name
    return ""


def _name_in_key(key: Key, p: int, deg: int) -> str:
    if key.mode == "minor" and deg in (5, 7):
        ch = key.chord(5)
        n = _name_in(ch, p)
        if n:
            return n
    return key.name_of(p % 12)


def _accompany(arr: Arrangement, seg: Segment, at: float, slot: float, voicing: tuple[int, ...],
               names: tuple[str, ...], vel: float, dyn, seg_start: float, last_bar: bool) -> None:
    """Add the accompaniment for one chord slot in the segment's texture."""
    if seg.texture == "pad" or last_bar:
        arr.events.append(Event("harmony", at, slot, voicing, dyn(vel, at, seg, seg_start), names))
        return
    if seg.texture == "arpeggio":
        step = 0.5 if seg.bpm < 90 else 1.0
        order = list(range(len(voicing))) + list(range(len(voicing) - 2, 0, -1))
        t, i = at, 0
        while t < at + slot - 1e-9:
            j = order[i % len(order)]
            arr.events.append(Event("harmony", t, step, (voicing[j],), dyn(vel * 0.9, t, seg, seg_start), (names[j],)))
            t += step
            i += 1
        return
    # block chords on every beat, shortened by the articulation
    t = at
    while t < at + slot - 1e-9:
        length = 1.0 if seg.articulation >= 0.9 else _quantise(seg.articulation)
        arr.events.append(Event("harmony", t, length, voicing, dyn(vel, t, seg, seg_start), names))
        t += 1.0


def compose(plan: MusicPlan):
    """The plan as a ``music21.stream.Score`` with melody, harmony and bass parts.

    Chord symbols sit in the harmony part (for MusicXML); remove them before
    writing MIDI (``output.midi_copy`` does).
    """
    from .score import to_score  # music21 is imported only here

    return to_score(plan, arrange(plan))
