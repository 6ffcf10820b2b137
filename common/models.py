"""Typed models shared by the agent, the safety screen and clinician profiles."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CrisisResource"]


class CrisisResource(BaseModel):
    """One place to get help; clinician profiles may override these per locale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)  # a number, a short code, or a web address
    kind: Literal["call", "text", "chat", "emergency", "directory", "call_text"]
    note: str = ""
