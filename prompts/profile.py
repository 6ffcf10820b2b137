"""Clinician profiles: validated YAML files (STYLE.md 6).

A profile sets the persona and tone, language and locale, goals and target
mood, which protocol steps and interventions are allowed, music limits,
crisis resources per locale, session length and which measures to collect.
Unknown keys are refused, and every error names the field and the file, so a
clinician sees at once what to fix. The shipped profiles live in
``profiles/*.yaml``; clinicians add their own in ``<data_dir>/profiles``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from attune.common.errors import ProfileError
from attune.common.models import CrisisResource
from attune.common.data import load_yaml
from attune.tools.music.limits import MusicLimits

__all__ = ["Profile", "Persona", "TargetMood", "load_profile", "parse_profile", "list_profiles",
           "PROFILE_DIR", "STEPS"]

PROFILE_DIR = Path(__file__).parent / "profiles"
STEPS = ("checkin", "explore", "offer_music", "compose", "listen_checkin", "reflect", "close")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Persona(_Strict):
    name: str = Field("Attune", min_length=1, max_length=40)
    tone: str = Field("warm, calm and plain-spoken", max_length=200)
    reading_level: Literal["simple", "standard"] = "standard"
    greeting: str = Field(
        "Hello, I'm Attune, an AI companion for music and relaxation. I'm not a therapist and "
        "can't diagnose, but I can listen and make music to meet how you feel.", max_length=600)


class TargetMood(_Strict):
    """Where a piece leads by default when the person has not said (valence, arousal in [-1, 1])."""

    valence: float = Field(0.3, ge=-1, le=1)
    arousal: float = Field(-0.5, ge=-1, le=1)
    label: str = "calmer and a little lighter"


class Measures(_Strict):
    suds: bool = True
    sam: bool = True
    heart_rate: bool = True
    voice: bool = False


class Profile(_Strict):
    name: str
    description: str = ""
    language: Literal["en", "es", "fr", "de"] = "en"
    locale: str = "US"
    audience: Literal["adult", "adolescent"] = "adult"
    persona: Persona = Field(default_factory=Persona)
    goals: list[str] = Field(default_factory=lambda: ["feel calmer", "notice and name feelings"])
    target: TargetMood = Field(default_factory=TargetMood)
    steps: list[Literal[STEPS]] = Field(default_factory=lambda: list(STEPS))  # type: ignore[valid-type]
    interventions: list[Literal["music", "breathing", "grounding", "reflection"]] = Field(
        default_factory=lambda: ["music", "breathing", "grounding", "reflection"])
    explore_turns_before_offer: int = Field(2, ge=0, le=20)  # turns of listening before music is offered
    music: MusicLimits = Field(default_factory=MusicLimits)
    piece_seconds: float = Field(90.0, ge=20, le=600)  # length of a piece, seconds
    breaths_per_minute: float | None = Field(None, ge=3, le=12)  # pace pieces to breathing
    crisis_resources: dict[str, list[CrisisResource]] = Field(default_factory=dict)
    session_minutes: int = Field(30, ge=5, le=120)
    measures: Measures = Field(default_factory=Measures)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use lower-case letters, digits, '-' or '_' (at most 64)")
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: list[str]) -> list[str]:
        for required in ("checkin", "explore", "close"):
            if required not in value:
                raise ValueError(f"the step {required!r} cannot be removed")
        return value

    @field_validator("crisis_resources")
    @classmethod
    def _resources(cls, value: dict) -> dict:
        return {k.strip().upper(): v for k, v in value.items()}

    def allows(self, step: str) -> bool:
        return step in self.steps

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_defaults=False), sort_keys=False,
                              allow_unicode=True)


def parse_profile(text: str, where: str = "<profile>") -> Profile:
    """Validate YAML text; a ``ProfileError`` names the file and each bad field."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{where}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a mapping of fields (name, persona, music, ...).")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(profile)"
            msg = "unknown field (not allowed)" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{field}: {msg}")
        raise ProfileError(f"{where}: " + "; ".join(problems)) from None


def _search_dirs(extra_dir: Path | None) -> list[Path]:
    return [d for d in (extra_dir, PROFILE_DIR) if d is not None]


def list_profiles(extra_dir: Path | None = None) -> list[str]:
    names: set[str] = set()
    for folder in _search_dirs(extra_dir):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.yaml"))
    return sorted(names)


def load_profile(name: str, extra_dir: Path | None = None) -> Profile:
    """A clinic's own profile wins over a shipped one of the same name."""
    if not _NAME.match(name or ""):
        raise ProfileError(f"{name!r} is not a profile name.")
    for folder in _search_dirs(extra_dir):
        path = folder / f"{name}.yaml"
        if path.exists():
            profile = parse_profile(path.read_text(encoding="utf-8"), str(path))
            if profile.name != name:
                raise ProfileError(f"{path}: name: must be {name!r} to match the file name")
            return profile
    raise ProfileError(f"No profile named {name!r}; available: {', '.join(list_profiles(extra_dir))}.")
