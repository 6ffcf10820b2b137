"""From a point in (valence, arousal) space to musical cues.

A continuous, weighted, additive mapping (not four quadrants): every cue is a
linear blend of valence and arousal, following Eerola, Friberg & Bresin 2013,
who found that cues add up nearly linearly and ranked their weight for
perceived emotion as mode > tempo > register > dynamics > articulation >
timbre. ``CUE_WEIGHTS`` keeps that order and ``perceived`` uses it to estimate
how a set of cues will feel. Limits (tempo window, loudness ceiling) are
applied by the planner, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CUE_WEIGHTS",
    "REASONS",
    "TIMBRE_BRIGHTNESS",
    "Cues",
    "cues_for",
    "perceived",
]

# Relative weight of each cue for perceived emotion, highest first
# (Eerola, Friberg & Bresin 2013). Sums to 1.
CUE_WEIGHTS: dict[str, float] = {
    "mode": 0.30,
    "tempo": 0.25,
    "register": 0.15,
    "dynamics": 0.13,
    "articulation": 0.10,
    "timbre": 0.07,
}

# How strongly each cue speaks to valence and to arousal (unitless, 0-1).
_VALENCE_LOAD = {"mode": 1.0, "tempo": 0.2, "register": 0.6, "dynamics": 0.1,
                 "articulation": 0.3, "timbre": 0.5}
_AROUSAL_LOAD = {"mode": 0.0, "tempo": 1.0, "register": 0.3, "dynamics": 1.0,
                 "articulation": 0.6, "timbre": 0.4}

# Centre and span of each numeric cue; cue = centre + span * (wv*v + wa*a).
TEMPO_CENTRE_BPM = 84.0  # beats per minute at (0, 0)
TEMPO_SPAN_BPM = 34.0  # beats per minute from neutral to an extreme
REGISTER_CENTRE = 67  # MIDI pitch of the melody centre at (0, 0): G4
REGISTER_SPAN = 7.0  # semitones
VELOCITY_CENTRE = 64.0  # MIDI velocity at (0, 0)
VELOCITY_SPAN = 28.0  # MIDI velocity
ARTICULATION_CENTRE = 0.82  # sounding fraction of each note's slot at (0, 0)
ARTICULATION_SPAN = 0.16
MODE_THRESHOLD = 0.0  # valence at or above this is major

# Brightness of each instrument's timbre, -1 dark .. +1 bright (our own rating).
TIMBRE_BRIGHTNESS: dict[str, float] = {
    "cello": -0.6, "contrabass": -0.8, "bass": -0.7, "electric bass": -0.5,
    "bassoon": -0.5, "warm pad": -0.5, "pad": -0.3, "halo pad": -0.2,
    "sweep pad": -0.2, "choir pad": -0.3, "slow strings": -0.3, "strings": -0.2,
    "choir": -0.2, "voice": -0.1, "viola": -0.3, "english horn": -0.3,
    "french horn": -0.2, "organ": -0.1, "clarinet": 0.0, "piano": 0.1,
    "guitar": 0.05, "steel guitar": 0.3, "harp": 0.2, "electric piano": 0.2,
    "oboe": 0.2, "violin": 0.3, "accordion": 0.2, "vibraphone": 0.4,
    "flute": 0.5, "recorder": 0.5, "pan flute": 0.4, "ocarina": 0.4,
    "marimba": 0.5, "kalimba": 0.5, "alto sax": 0.3, "soprano sax": 0.4,
    "trumpet": 0.6, "trombone": 0.1, "brass": 0.4, "bright piano": 0.4,
    "celesta": 0.7, "music box": 0.6, "glockenspiel": 0.8, "piccolo": 0.8,
}

# The fact each cue follows, for the "why this music" card.
REASONS: dict[str, str] = {
    "mode": "Mode carries the most weight for perceived valence: major for brighter, "
            "minor for lower moods (Eerola, Friberg & Bresin 2013; Gabrielsson & Lindström 2010).",
    "tempo": "Tempo is the strongest cue for arousal: slower music calms breathing and heart "
             "rate, faster music raises them (Bernardi et al. 2006).",
    "register": "Register is the third-strongest cue: higher and brighter for positive moods, "
                "lower and darker for sad or calm ones (Eerola, Friberg & Bresin 2013).",
    "dynamics": "Loudness goes with intensity and energy, softness with peace and tenderness "
                "(Gabrielsson & Lindström 2010).",
    "articulation": "Connected (legato) notes sound calmer and sadder, detached (staccato) notes "
                    "livelier (Eerola, Friberg & Bresin 2013).",
    "harmony": "Simpler, slower-changing harmony relaxes; busier harmony and rhythm raise "
               "arousal (Bernardi et al. 2006; Tan et al. 2012).",
    "texture": "Sustained textures suit calm moods, moving ones suit energy; complexity and "
               "timbre shape how relaxing music feels (Tan et al. 2012).",
    "timbre": "Timbre has the smallest weight of the six cues; darker instruments for low "
              "moods, brighter ones for positive moods (Eerola, Friberg & Bresin 2013).",
    "contour": "Happy music rises with a wide range and leaps; sad music falls with a narrow "
               "range and steps (review PMC7396614, table 3).",
}


@dataclass(frozen=True)
class Cues:
    """Unclipped cue values for one (valence, arousal) point."""

    mode: str  # "major" | "minor"
    bpm: float  # beats per minute
    register: float  # MIDI pitch of the melody centre
    velocity: float  # MIDI velocity, 1-127
    articulation: float  # sounding fraction of a note's slot, 0.5 staccato .. 1.0 legato
    chords_per_bar: int  # harmonic rhythm: 1 or 2 chord changes per bar
    complexity: float  # 0 plain triads, slow rhythm .. 1 sevenths, busy rhythm
    texture: str  # "pad" | "arpeggio" | "block"
    timbre: float  # wanted brightness, -1 dark .. +1 bright
    contour: float  # melodic slope, -1 falling .. +1 rising
    range_semitones: float  # melodic range


def _clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def cues_for(valence: float, arousal: float) -> Cues:
    """Cues for a point; both inputs in [-1, 1]."""
    v, a = _clamp(valence, -1, 1), _clamp(arousal, -1, 1)
    complexity = _clamp(0.45 + 0.35 * a - 0.1 * v, 0.0, 1.0)
    if a < -0.3:
        texture = "pad"
    elif a < 0.4:
        texture = "arpeggio"
    else:
        texture = "block"
    return Cues(
        mode="major" if v >= MODE_THRESHOLD else "minor",
        bpm=TEMPO_CENTRE_BPM + TEMPO_SPAN_BPM * (0.9 * a + 0.1 * v),
        register=REGISTER_CENTRE + REGISTER_SPAN * (0.7 * v + 0.3 * a),
        velocity=VELOCITY_CENTRE + VELOCITY_SPAN * (0.85 * a + 0.15 * v),
        articulation=_clamp(ARTICULATION_CENTRE - ARTICULATION_SPAN * (0.75 * a + 0.25 * v), 0.5, 1.0),
        chords_per_bar=2 if a >= 0.45 else 1,
        complexity=complexity,
        texture=texture,
        timbre=_clamp(0.6 * v + 0.4 * a, -1, 1),
        contour=_clamp(0.8 * v + 0.2 * a, -1, 1),
        range_semitones=_clamp(9 + 4 * v + 2 * a, 4, 15),
    )


def perceived(mode: str, bpm: float, register: float, velocity: float,
              articulation: float, timbre: float) -> tuple[float, float]:
    """Expected (valence, arousal) of a set of cues, by the weighted additive model.

    Each cue is scaled to [-1, 1] around its neutral value, then weighted by
    ``CUE_WEIGHTS`` and by how much it speaks to each dimension.
    """
    scaled = {
        "mode": 1.0 if mode == "major" else -1.0,
        "tempo": _clamp((bpm - TEMPO_CENTRE_BPM) / TEMPO_SPAN_BPM, -1, 1),
        "register": _clamp((register - REGISTER_CENTRE) / REGISTER_SPAN, -1, 1),
        "dynamics": _clamp((velocity - VELOCITY_CENTRE) / VELOCITY_SPAN, -1, 1),
        "articulation": _clamp((ARTICULATION_CENTRE - articulation) / ARTICULATION_SPAN, -1, 1),
        "timbre": _clamp(timbre, -1, 1),
    }

    def blend(load: dict[str, float]) -> float:
        total = sum(CUE_WEIGHTS[k] * load[k] for k in scaled)
        return sum(CUE_WEIGHTS[k] * load[k] * scaled[k] for k in scaled) / total

    return round(blend(_VALENCE_LOAD), 3), round(blend(_AROUSAL_LOAD), 3)
