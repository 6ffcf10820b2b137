"""Pydantic models at the safety boundary: verdicts, resources, crisis replies.

Nothing here screens anything; the guards in ``input_guard`` and
``output_guard`` build these objects and callers read them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from attune.common.models import CrisisResource

__all__ = [
    "Action",
    "CRISIS_CATEGORIES",
    "BLOCK_CATEGORIES",
    "CSSRS_LEVELS",
    "ScreenResult",
    "OutputVerdict",
    "CrisisResource",
    "CrisisReply",
]

Action = Literal["crisis", "block", "allow"]

# Categories that take the crisis path (code writes the reply, no model call).
CRISIS_CATEGORIES = (
    "suicide_self_harm",
    "harm_to_others",
    "abuse_disclosure",
    "medical_emergency",
)
# Categories that stop the turn with a refusal (crisis when risk context is present).
BLOCK_CATEGORIES = (
    "method_request",      # methods, means, locations, lethal amounts
    "medication_request",  # dosing, starting or stopping medication
    "diagnosis_request",   # "do I have bipolar?"
    "prompt_injection",    # jailbreak, role-play framing, system-prompt extraction, fake roles
    "privacy_request",     # another person's data held by the service: names, diagnoses, transcripts
    "out_of_scope",        # coding, homework, trivia
)

# Columbia Suicide Severity Rating Scale screener items (CLINICAL.md).
CSSRS_LEVELS = {
    1: "wish to be dead",
    2: "thoughts of killing oneself",
    3: "thought about how (method)",
    4: "intent to act",
    5: "plan with intent",
    6: "preparatory or actual behaviour",
}


class ScreenResult(BaseModel):
    """What the input screen decided about one message in its conversation."""

    model_config = ConfigDict(frozen=True)

    action: Action
    categories: list[str] = Field(default_factory=list)
    score: float = Field(ge=0.0, le=1.0)  # risk, 0 none .. 1 certain
    reasons: list[str] = Field(default_factory=list)  # rule names and exemplar hits, no patient text
    cssrs_level: int | None = Field(default=None, ge=1, le=6)
    language: str = "en"  # en, es, fr, de (simple detection)

    @property
    def is_crisis(self) -> bool:
        return self.action == "crisis"

    @property
    def cssrs_label(self) -> str | None:
        return CSSRS_LEVELS.get(self.cssrs_level) if self.cssrs_level else None


class OutputVerdict(BaseModel):
    """What the output screen decided about one model reply."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    problems: list[str] = Field(default_factory=list)  # e.g. "method_detail", "canary_leak"
    replacement: str | None = None  # the safe text to send instead when not ok

    @property
    def text_or_replacement(self) -> str | None:
        return self.replacement


class CrisisReply(BaseModel):
    """The crisis protocol reply, written by code (no model call)."""

    model_config = ConfigDict(frozen=True)

    text: str
    resources: list[CrisisResource]
    locale: str
    language: str
    grounding: str  # the grounding exercise offered (5-4-3-2-1)
    safety_plan_step: str
    asks_if_safe: bool = True
