"""Boundary types for mood inference: `Evidence`, `MoodEstimate`, `Baseline`.

Valence (unpleasant -1 .. pleasant +1) and arousal (deactivated -1 .. activated
+1) form the circumplex plane that the music side (iso principle) starts from.
`emotions` is a probability distribution over `EMOTIONS`. Nothing here loads
a model; the helpers are plain arithmetic.
"""

from __future__ import annotations

import math
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "EMOTIONS",
    "PROTOTYPES",
    "Evidence",
    "MoodEstimate",
    "Baseline",
    "emotions_from_va",
    "neutral_estimate",
    "clip",
]

EMOTIONS: tuple[str, ...] = (
    "joy", "calm", "sadness", "anger", "anxiety", "tiredness", "tenderness", "neutral",
)

# Where each emotion sits on the (valence, arousal) plane; used to turn a point
# into a soft distribution when no classifier speaks (voice, heart, self-report).
PROTOTYPES: dict[str, tuple[float, float]] = {
    "joy": (0.65, 0.55),
    "calm": (0.45, -0.55),
    "sadness": (-0.6, -0.3),
    "anger": (-0.65, 0.65),
    "anxiety": (-0.6, 0.6),
    "tiredness": (-0.3, -0.65),
    "tenderness": (0.55, -0.3),
    "neutral": (0.0, 0.0),
}

# Plain words for the dialogue, one per emotion.
_WORDS = {
    "joy": "upbeat",
    "calm": "calm",
    "sadness": "low",
    "anger": "frustrated",
    "anxiety": "anxious",
    "tiredness": "tired",
    "tenderness": "warm",
    "neutral": "steady",
}


_SIDE_POSITIVE = {"joy", "calm", "tenderness"}
_SIDE_NEGATIVE = {"sadness", "anger", "anxiety", "tiredness"}
LABEL_SIDE = 0.15  # valence this far from neutral decides which feelings may be named

_PAIR_ORDER = ["sadness", "tiredness", "anxiety", "anger", "joy", "calm", "tenderness", "neutral"]


def clip(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    """Clamp `x` into [lo, hi] (NaN becomes 0)."""
    if x != x:  # NaN
        return 0.0
    return max(lo, min(hi, float(x)))


class Evidence(BaseModel):
    """One thing that moved an estimate, named so a clinician can audit it.

    `valence_delta` / `arousal_delta` are the signed pull on each axis (units of
    the [-1, 1] scale) before weighting; `value` carries a raw reading (ms, beats
    per minute, Hz ...) when the evidence is a measurement; `weight` is its
    reliability weight in the fusion (0-1, see `fusion.RELIABILITY`).
    """

    model_config = ConfigDict(extra="forbid")

    source: str  # "text", "vader", "head", "self_report", "heart", "voice", "fusion", ...
    detail: str
    valence_delta: Optional[float] = None
    arousal_delta: Optional[float] = None
    value: Optional[float] = None
    weight: float = Field(default=1.0, ge=0.0)


class MoodEstimate(BaseModel):
    """An inferred or reported mood on the circumplex, with its reasons."""

    model_config = ConfigDict(extra="forbid")

    valence: float = Field(0.0, ge=-1.0, le=1.0)
    arousal: float = Field(0.0, ge=-1.0, le=1.0)
    emotions: dict[str, float] = Field(default_factory=lambda: {e: (1.0 if e == "neutral" else 0.0) for e in EMOTIONS})
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)

    @field_validator("emotions")
    @classmethod
    def _normalise(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(EMOTIONS)
        if unknown:
            raise ValueError(f"unknown emotions: {sorted(unknown)}")
        full = {e: max(0.0, float(v.get(e, 0.0))) for e in EMOTIONS}
        total = sum(full.values())
        if total <= 0:
            return {e: (1.0 if e == "neutral" else 0.0) for e in EMOTIONS}
        return {e: round(p / total, 4) for e, p in full.items()}

    @model_validator(mode="after")
    def _sum_to_one(self) -> "MoodEstimate":
        # rounding to 4 places can leave a residue; give it to the largest
        total = sum(self.emotions.values())
        if abs(total - 1.0) > 1e-9:
            top = max(self.emotions, key=self.emotions.get)
            self.emotions[top] = round(self.emotions[top] + 1.0 - total, 6)
        return self

    def top(self, n: int = 2) -> list[tuple[str, float]]:
        """The `n` most probable emotions, most probable first."""
        return sorted(self.emotions.items(), key=lambda kv: -kv[1])[:n]

    def label(self) -> str:
        """A plain feeling word for the dialogue, e.g. "low and tired", "anxious", "calm".

        Only feelings on the same side of pleasant/unpleasant as the valence are
        named (never "low and positive" for a low mood); two are joined when the
        second is at least half as likely as the first; with confidence under
        0.15 the answer is "hard to tell".
        """
        if self.confidence < 0.15:
            return "hard to tell"
        probs = dict(self.emotions)
        side = _SIDE_POSITIVE if self.valence >= LABEL_SIDE else _SIDE_NEGATIVE if self.valence <= -LABEL_SIDE else None
        if side is not None:
            probs = {e: p for e, p in probs.items() if e in side or e == "neutral"}
        if max(abs(self.valence), abs(self.arousal)) >= 0.3:
            probs.pop("neutral", None)
        if not probs or max(probs.values()) <= 0:
            return _WORDS["neutral"] if side is None else self._side_word()
        ranked = sorted(probs.items(), key=lambda kv: -kv[1])
        (first, p1), (second, p2) = ranked[0], ranked[1] if len(ranked) > 1 else ("neutral", 0.0)
        if first == "neutral" and second != "neutral" and p2 >= 0.5 * p1:
            first, second, p1, p2 = second, first, p2, p1
        words = {e: _WORDS[e] for e in EMOTIONS}
        if self.arousal < 0.2:
            words["joy"] = "positive"  # pleasant but not lively: "upbeat" would overstate it
        word = words[first]
        # near neutral no side is chosen, and two feelings from opposite sides read as a contradiction
        # ("low and positive"): the first alone is named
        opposite = (first in _SIDE_POSITIVE) != (second in _SIDE_POSITIVE)
        if second != "neutral" and p2 >= 0.5 * p1 and words[second] != word and not opposite:
            pair = sorted([first, second], key=_PAIR_ORDER.index)  # "low and tired", never "tired and low"
            return f"{words[pair[0]]} and {words[pair[1]]}"
        return word

    def _side_word(self) -> str:
        """The quadrant's own word when no emotion on its side has any weight."""
        if self.valence >= 0:
            return _WORDS["joy"] if self.arousal >= 0.2 else _WORDS["calm"]
        return _WORDS["anxiety"] if self.arousal >= 0.2 else _WORDS["sadness"]

    def brief(self) -> dict:
        """The contract view for `attune mood`: text-free numbers only."""
        return {
            "valence": round(self.valence, 3),
            "arousal": round(self.arousal, 3),
            "emotions": {k: round(v, 3) for k, v in self.emotions.items()},
            "confidence": round(self.confidence, 3),
        }


class Baseline(BaseModel):
    """A person's own resting values, measured seated and calm.

    resting_hr in beats per minute (25-240), rmssd in milliseconds, eeg_index
    the EEG engagement index beta / (alpha + theta) of a calm reading (see `eeg`).
    """

    model_config = ConfigDict(extra="forbid")

    resting_hr: Optional[float] = Field(None, ge=25, le=240)
    rmssd: Optional[float] = Field(None, gt=0, le=500)
    eeg_index: Optional[float] = Field(None, gt=0, le=1000)


def emotions_from_va(valence: float, arousal: float, sharpness: float = 4.0) -> dict[str, float]:
    """Soft distribution over EMOTIONS from a point: softmax of -sharpness * squared distance."""
    scores = {
        e: -sharpness * ((valence - pv) ** 2 + (arousal - pa) ** 2) for e, (pv, pa) in PROTOTYPES.items()
    }
    m = max(scores.values())
    exp = {e: math.exp(s - m) for e, s in scores.items()}
    total = sum(exp.values())
    return {e: x / total for e, x in exp.items()}


def neutral_estimate(detail: str, source: str = "text") -> MoodEstimate:
    """Neutral mood with confidence 0 (nothing to go on), with one evidence line saying why."""
    return MoodEstimate(evidence=[Evidence(source=source, detail=detail, weight=0.0)])
