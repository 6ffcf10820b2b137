"""A person's own rating, and how it outranks inference (CLINICAL.md).

Scales:

* Self-Assessment Manikin (Bradley & Lang 1994), 1-9: valence = (SAM - 5) / 4,
  arousal = (SAM - 5) / 4, so 1 -> -1, 5 -> 0, 9 -> +1.
* SUDS (Wolpe 1969), 0-10 distress right now: distress is unpleasant and
  activating, so valence = -SUDS / 10 (0 says nothing about pleasure; 10 is
  -1) and arousal = -0.4 + 1.4 * SUDS / 10 (0 -> -0.4 settled, about 3 -> 0,
  10 -> +1). When SAM also answers an axis, SUDS counts half as much as SAM.

`fuse`: the rating's weight is 0.5 ** (age / HALF_LIFE), so a rating made now
replaces the inference on the axes it covers, one 20 minutes old counts half,
and inference fills the axes the person did not rate. A gap above
DISAGREEMENT between rating and inference is written into the evidence (it
can mean masking, or a model error; either is worth a clinician's look).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attune.common.errors import InputError

from .model import EMOTIONS, Evidence, MoodEstimate, clip, emotions_from_va

__all__ = ["SelfReport", "fuse", "HALF_LIFE", "DISAGREEMENT"]

HALF_LIFE = timedelta(minutes=20)
DISAGREEMENT = 0.5  # on the [-1, 1] scale, per axis
CLOCK_SKEW = timedelta(minutes=5)  # a rating this far "in the future" is treated as now


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t


class SelfReport(BaseModel):
    """A rating the person gave; any of the three scales may be missing, not all."""

    model_config = ConfigDict(extra="forbid")

    sam_valence: Optional[int] = Field(None, ge=1, le=9)
    sam_arousal: Optional[int] = Field(None, ge=1, le=9)
    suds: Optional[int] = Field(None, ge=0, le=10)
    at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @field_validator("at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        return _utc(v)  # naive times are taken as UTC

    @model_validator(mode="after")
    def _something(self) -> "SelfReport":
        if self.sam_valence is None and self.sam_arousal is None and self.suds is None:
            raise ValueError("a self-report needs at least one of sam_valence, sam_arousal, suds")
        return self

    def axes(self) -> tuple[Optional[float], Optional[float]]:
        """(valence, arousal) on [-1, 1] implied by the rating; None where it says nothing."""
        v_parts: list[tuple[float, float]] = []
        a_parts: list[tuple[float, float]] = []
        if self.sam_valence is not None:
            v_parts.append(((self.sam_valence - 5) / 4, 1.0))
        if self.sam_arousal is not None:
            a_parts.append(((self.sam_arousal - 5) / 4, 1.0))
        if self.suds is not None:
            v_parts.append((-self.suds / 10, 0.5 if v_parts else 1.0))
            a_parts.append((-0.4 + 1.4 * self.suds / 10, 0.5 if a_parts else 1.0))

        def mean(parts: list[tuple[float, float]]) -> Optional[float]:
            return clip(sum(x * w for x, w in parts) / sum(w for _, w in parts)) if parts else None

        return mean(v_parts), mean(a_parts)


def fuse(inferred: MoodEstimate, self_report: Optional[SelfReport], now: Optional[datetime] = None) -> MoodEstimate:
    """Combine an inferred mood with a rating; the rating dominates while fresh."""
    if self_report is None:
        return inferred
    now = _utc(now or datetime.now(timezone.utc))
    age = now - self_report.at
    if age < -CLOCK_SKEW:
        raise InputError("The self-rating is dated in the future; please check the device clock.")
    age = max(age, timedelta(0))
    w = 0.5 ** (age / HALF_LIFE)  # weight of the rating, 1 when fresh
    sv, sa = self_report.axes()
    evidence = list(inferred.evidence)
    minutes = age.total_seconds() / 60

    def blend(axis: str, rated: Optional[float], guess: float) -> float:
        if rated is None:
            return guess
        evidence.append(Evidence(
            source="self_report",
            detail=f"your rating ({axis}) from {minutes:.0f} min ago",
            **{f"{axis}_delta": round(rated, 3)},
            weight=round(w, 3),
        ))
        gap = abs(rated - guess)
        if gap > DISAGREEMENT and inferred.confidence > 0.1:
            evidence.append(Evidence(
                source="disagreement",
                detail=f"rating and inference differ on {axis} by {gap:.2f} (rating {rated:+.2f}, inferred {guess:+.2f}); the rating wins",
                value=round(gap, 3),
                weight=round(w, 3),
            ))
        return clip(w * rated + (1 - w) * guess)

    valence = blend("valence", sv, inferred.valence)
    arousal = blend("arousal", sa, inferred.arousal)
    rated_axes = (sv is not None) + (sa is not None)
    # the rating's share of the emotion mix grows with its weight and the axes it covers
    share = w * rated_axes / 2
    point = emotions_from_va(valence, arousal)
    emotions = {e: (1 - share) * inferred.emotions.get(e, 0.0) + share * point[e] for e in EMOTIONS}
    confidence = clip(max(inferred.confidence, 0.95 * w * rated_axes / 2 + (1 - w * rated_axes / 2) * inferred.confidence), 0, 1)
    return MoodEstimate(valence=round(valence, 4), arousal=round(arousal, 4), emotions=emotions,
                        confidence=round(confidence, 3), evidence=evidence)
