"""Evaluation scenarios: YAML files validated into pydantic models.

A scenario is a persona, a clinician profile, either a scripted list of
patient messages or a ``simulate`` block (a persona description a capable
model plays), and the expectations the scorers check. Unknown keys are an
error so that a typo in a scenario file fails loudly instead of silently
switching a check off.

What it leaves out: running scenarios (``runner``) and scoring them
(``scorers``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from attune.common.errors import ConfigError

__all__ = [
    "SCENARIO_DIR", "Persona", "Simulation", "ProfileLimits", "Expectations", "Scenario",
    "load_file", "load_scenarios", "select",
]

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

Action = Literal["allow", "crisis", "block"]
Direction = Literal["calmer", "more_energetic", "any"]
Suite = Literal["fast", "full"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Persona(_Strict):
    risk_level: Literal["none", "low", "moderate", "high", "imminent"]
    style: str = Field(min_length=1)  # a few words: "terse", "masked", "chatty, uses slang"
    locale: str = "US"  # the country whose crisis resources apply
    language: Literal["en", "es", "fr", "de"] = "en"

    @field_validator("locale")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


class Simulation(_Strict):
    """A patient played by a model; only run with a capable backend."""

    persona: str = Field(min_length=20)
    max_turns: int = Field(ge=1, le=40)
    opening: str | None = None  # the first message, so every run starts the same way


class ProfileLimits(_Strict):
    """Limits the clinician profile sets on music; checked on every piece."""

    forbidden_instruments: list[str] = Field(default_factory=list)
    min_bpm: float | None = Field(default=None, ge=20, le=240)  # beats per minute
    max_bpm: float | None = Field(default=None, ge=20, le=240)  # beats per minute

    @model_validator(mode="after")
    def _window(self) -> "ProfileLimits":
        if self.min_bpm is not None and self.max_bpm is not None and self.min_bpm > self.max_bpm:
            raise ValueError("min_bpm is above max_bpm")
        return self


class Expectations(_Strict):
    """What a good agent does in this scenario. Turn numbers are 1-based."""

    crisis_by_turn: int | None = Field(default=None, ge=1)
    no_crisis: bool = False
    actions: dict[int, Action] = Field(default_factory=dict)  # turn -> expected action
    resources_locale: str | None = None  # default: the persona's locale
    no_forbidden_content: Literal[True] = True  # CARE rule: always on, cannot be switched off
    music_by_turn: int | None = Field(default=None, ge=1)
    # one direction for every piece, or {turn: direction} from that turn on
    music_direction: Direction | dict[int, Direction] | None = None
    # instruments the patient asked to drop: {turn: [names]} from that turn on
    instruments_dropped: dict[int, list[str]] = Field(default_factory=dict)
    stop_music_turn: int | None = Field(default=None, ge=1)
    why_turn: int | None = Field(default=None, ge=1)  # the patient asks why this music
    profile_limits: ProfileLimits | None = None
    sources_cited: bool = False
    ai_disclosed_by_turn: int | None = Field(default=None, ge=1)
    human_connection_by_turn: int | None = Field(default=None, ge=1)  # dependence drift
    no_prompt_leak: bool = False  # jailbreaks asking for the system prompt
    max_fallback_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    max_latency_s: float | None = Field(default=None, gt=0)  # seconds per turn

    @field_validator("resources_locale")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if value else value

    @model_validator(mode="after")
    def _consistent(self) -> "Expectations":
        if self.no_crisis and self.crisis_by_turn is not None:
            raise ValueError("crisis_by_turn and no_crisis exclude each other")
        if self.no_crisis and "crisis" in self.actions.values():
            raise ValueError("no_crisis conflicts with an expected crisis action")
        return self

    def direction_at(self, turn: int) -> Direction | None:
        """The music direction expected for a piece made at ``turn``."""
        d = self.music_direction
        if d is None or isinstance(d, str):
            return d
        started = [t for t in sorted(d) if t <= turn]
        return d[started[-1]] if started else None

    def dropped_at(self, turn: int) -> set[str]:
        """Instruments that must be absent from a piece made at ``turn``."""
        out = {n.strip().lower() for n in (self.profile_limits.forbidden_instruments if self.profile_limits else [])}
        for t, names in self.instruments_dropped.items():
            if t <= turn:
                out |= {n.strip().lower() for n in names}
        return out

    def turn_numbers(self) -> list[int]:
        nums = [self.crisis_by_turn, self.music_by_turn, self.stop_music_turn, self.why_turn,
                self.ai_disclosed_by_turn, self.human_connection_by_turn, *self.actions, *self.instruments_dropped]
        if isinstance(self.music_direction, dict):
            nums += list(self.music_direction)
        return [n for n in nums if n is not None]


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    suite: Suite
    category: str = Field(min_length=1)  # crisis_direct, benign, jailbreak, music, ... (for the report)
    persona: Persona
    profile: str = "default"
    turns: list[str] = Field(default_factory=list)
    simulate: Simulation | None = None
    expectations: Expectations = Field(default_factory=Expectations)

    @model_validator(mode="after")
    def _script_or_simulation(self) -> "Scenario":
        if bool(self.turns) == bool(self.simulate):
            raise ValueError("give either turns (scripted messages) or simulate, not both or neither")
        if any(not m.strip() for m in self.turns):
            raise ValueError("a scripted message is empty")
        limit = len(self.turns) if self.turns else self.simulate.max_turns  # type: ignore[union-attr]
        late = [n for n in self.expectations.turn_numbers() if n > limit]
        if late:
            raise ValueError(f"expectation turn {max(late)} is after the last turn ({limit})")
        return self

    @property
    def simulated(self) -> bool:
        return self.simulate is not None

    @property
    def resources_locale(self) -> str:
        return self.expectations.resources_locale or self.persona.locale


def load_file(path: Path | str) -> list[Scenario]:
    """All scenarios in one YAML file (``scenarios: [...]``), or ConfigError naming the problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"The scenario file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or set(data) != {"scenarios"} or not isinstance(data["scenarios"], list):
        raise ConfigError(f"The scenario file {path} must hold exactly one key, 'scenarios', with a list.")
    out = []
    for i, raw in enumerate(data["scenarios"]):
        try:
            out.append(Scenario.model_validate(raw))
        except ValidationError as exc:
            name = raw.get("id", f"#{i + 1}") if isinstance(raw, dict) else f"#{i + 1}"
            raise ConfigError(f"Scenario {name} in {path.name} is invalid: {exc}") from None
    return out


def load_scenarios(folder: Path | str = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario in a folder, sorted by id; duplicate ids are an error."""
    scenarios: dict[str, Scenario] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        for sc in load_file(path):
            if sc.id in scenarios:
                raise ConfigError(f"Scenario id {sc.id} appears twice (again in {path.name}).")
            scenarios[sc.id] = sc
    return [scenarios[k] for k in sorted(scenarios)]


def select(names: Iterable[str] = (), suite: str | None = None, folder: Path | str = SCENARIO_DIR) -> list[Scenario]:
    """Scenarios by id, id prefix or YAML path; with no names, a suite.

    The full suite holds every scenario; the fast suite only those marked
    ``fast``. With neither names nor suite, the fast suite.
    """
    names = list(names)
    if not names:
        suite = suite or "fast"
        return [s for s in load_scenarios(folder) if suite == "full" or s.suite == suite]
    known: list[Scenario] | None = None
    chosen: dict[str, Scenario] = {}
    for name in names:
        path = Path(name)
        if name.endswith((".yaml", ".yml")) or path.is_file():
            if not path.is_file():
                raise ConfigError(f"No scenario file at {name}.")
            found = load_file(path)
        else:
            known = known if known is not None else load_scenarios(folder)
            found = [s for s in known if s.id == name] or [s for s in known if s.id.startswith(name)]
            if not found:
                raise ConfigError(f"No scenario named {name!r}; see the ids in {SCENARIO_DIR}.")
        for s in found:
            if suite in (None, "full") or s.suite == suite:
                chosen[s.id] = s
    return list(chosen.values())
