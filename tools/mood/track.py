"""Mood across a conversation: confidence-weighted exponential smoothing.

Each turn moves the tracked point toward the new estimate by
`alpha * confidence` (alpha 0.5: a fully confident turn moves half way),
except that a clear new message is not diluted by earlier small talk or an
older, different mood, and a faint one barely moves a clear mood
(`MoodTrack._step`). A
turn whose estimate lies at least `jump_threshold` away (Euclidean distance on
the valence-arousal plane) from the tracked point, with confidence at least
0.4, is recorded as a sudden change with its size, so the dialogue can check
in ("that sounds like a big shift"). The state is plain data: `to_dict()` and
`from_dict()` round-trip through JSON so the store can keep it encrypted.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from .model import EMOTIONS, MoodEstimate, clip

__all__ = ["MoodTrack", "Jump"]

CLEAR = 0.3  # a value this far from neutral on either axis makes a message clear


class Jump(BaseModel):
    turn: int
    size: float  # distance on the valence-arousal plane, 0-2.83
    from_va: tuple[float, float]
    to_va: tuple[float, float]
    at: Optional[datetime] = None


class MoodTrack(BaseModel):
    """Smoothed mood over turns; `update()` returns the new Jump if one happened."""

    model_config = ConfigDict(extra="forbid")

    alpha: float = Field(0.5, gt=0, le=1)
    jump_threshold: float = Field(0.8, gt=0)
    min_jump_confidence: float = Field(0.4, ge=0, le=1)
    turns: int = 0
    valence: float = 0.0
    arousal: float = 0.0
    emotions: dict[str, float] = Field(default_factory=lambda: {e: (1.0 if e == "neutral" else 0.0) for e in EMOTIONS})
    confidence: float = 0.0
    jumps: list[Jump] = Field(default_factory=list)

    def update(self, estimate: MoodEstimate, at: Optional[datetime] = None) -> Optional[Jump]:
        self.turns += 1
        jump = None
        dist = math.hypot(estimate.valence - self.valence, estimate.arousal - self.arousal)
        if self.confidence > 0 and estimate.confidence >= self.min_jump_confidence and dist >= self.jump_threshold:
            jump = Jump(
                turn=self.turns,
                size=round(dist, 3),
                from_va=(round(self.valence, 3), round(self.arousal, 3)),
                to_va=(round(estimate.valence, 3), round(estimate.arousal, 3)),
                at=at or datetime.now(timezone.utc),
            )
            self.jumps.append(jump)
        k = self._step(estimate, dist)
        self.valence = clip((1 - k) * self.valence + k * estimate.valence)
        self.arousal = clip((1 - k) * self.arousal + k * estimate.arousal)
        self.emotions = {e: (1 - k) * self.emotions.get(e, 0.0) + k * estimate.emotions.get(e, 0.0) for e in EMOTIONS}
        self.confidence = clip((1 - k) * self.confidence + k * estimate.confidence, 0, 1) if k < 1 else estimate.confidence
        return jump

    def _step(self, estimate: MoodEstimate, dist: float) -> float:
        """How far this turn moves the tracked point (0 keeps it, 1 replaces it).

        The first turn sets the state outright. A clear message (a value at least
        CLEAR from neutral, confidence at least 0.35) is not diluted: after small
        talk ("hi") or far from the tracked point it takes most of the way, so "my
        manager keeps piling work on me" after "hi" reads stressed, not steady.
        A faint one ("ok", "hmm") barely moves a clear mood back toward neutral.
        """
        if self.confidence == 0:
            return 1.0
        k = self.alpha * estimate.confidence
        clear = max(abs(estimate.valence), abs(estimate.arousal)) >= CLEAR and estimate.confidence >= 0.35
        faint_state = max(abs(self.valence), abs(self.arousal)) < CLEAR
        if clear and faint_state:
            return max(k, 0.9)
        if clear and dist >= 0.6:
            return max(k, 0.7)
        if not clear:
            return min(k, 0.25 * estimate.confidence)
        return k

    def current(self) -> MoodEstimate:
        """The smoothed mood as an estimate (no evidence lines)."""
        return MoodEstimate(valence=self.valence, arousal=self.arousal, emotions=self.emotions, confidence=self.confidence)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MoodTrack":
        return cls.model_validate(data)
