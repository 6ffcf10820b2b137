"""The typed events one turn yields (STYLE.md 1).

``attune ask``, ``attune chat``, the web app and the evaluation harness all
consume the same stream; each event is a small frozen dataclass with a
``kind`` and an ``as_dict`` for JSON and storage.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "Event", "TurnStarted", "Screened", "MoodInferred", "PassagesRetrieved", "StepChosen",
    "ToolCalled", "ToolResult", "ReplyDelta", "Reply", "OutputChecked", "TurnDone", "TurnFailed", "Notice",
]


@dataclass(frozen=True)
class Event:
    @property
    def kind(self) -> str:
        return type(self).__name__

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class TurnStarted(Event):
    session_id: str
    turn: int  # 1-based count of patient messages in this session


@dataclass(frozen=True)
class Screened(Event):
    action: str  # allow | crisis | block
    categories: list[str]
    score: float
    stage: str = "input"


@dataclass(frozen=True)
class MoodInferred(Event):
    valence: float
    arousal: float
    label: str
    confidence: float
    emotions: dict[str, float] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PassagesRetrieved(Event):
    passages: list[dict]


@dataclass(frozen=True)
class StepChosen(Event):
    step: str
    intent: str
    reason: str


@dataclass(frozen=True)
class ToolCalled(Event):
    name: str
    arguments: dict


@dataclass(frozen=True)
class ToolResult(Event):
    name: str
    result: dict


@dataclass(frozen=True)
class ReplyDelta(Event):
    text: str


@dataclass(frozen=True)
class OutputChecked(Event):
    ok: bool
    problems: list[str]


@dataclass(frozen=True)
class Reply(Event):
    text: str
    fallback: bool = False  # True when code replaced or wrote the reply


@dataclass(frozen=True)
class Notice(Event):
    """Something the person should see that is not the reply (an input problem)."""

    message: str


@dataclass(frozen=True)
class TurnDone(Event):
    """The contract of ``attune ask``: reply, action, mood, music, sources, session."""

    reply: str
    action: str
    mood: dict | None
    music: dict | None
    sources: list[dict]
    session: str
    step: str = ""
    crisis: dict | None = None
    crisis_cleared: bool = False  # the person said they are safe: the page takes the crisis banner down


@dataclass(frozen=True)
class TurnFailed(Event):
    """The last event of a turn that could not finish: ``message`` is a sentence to show the person.

    ``error`` names the kind (``InputError``, ``StorageError`` ... or ``internal`` for a bug); what
    was stored before the failure stays stored, and the session's state is not saved half-way.
    """

    session: str
    error: str
    message: str
    exit_code: int = 2
