"""Safety limits for generated music, and the General MIDI instrument table.

``MusicLimits`` is self-contained so that a clinician profile can embed it:
a tempo window, a loudness ceiling, the largest loudness change between
segments, and which instruments may or may not sound. Percussion is always
off (no MIDI channel 10 is ever written). This module does not plan or
render anything.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["GM_PROGRAMS", "MusicLimits", "gm_program", "instrument_names"]

# Friendly instrument name -> General MIDI program number (0-based, 0-127).
# One table for the whole package; names are what profiles and the CLI use.
GM_PROGRAMS: dict[str, int] = {
    "piano": 0,
    "bright piano": 1,
    "electric piano": 4,
    "celesta": 8,
    "glockenspiel": 9,
    "music box": 10,
    "vibraphone": 11,
    "marimba": 12,
    "organ": 19,
    "accordion": 21,
    "guitar": 24,  # nylon-string acoustic
    "steel guitar": 25,
    "bass": 32,  # acoustic (upright) bass
    "electric bass": 33,
    "violin": 40,
    "viola": 41,
    "cello": 42,
    "contrabass": 43,
    "harp": 46,
    "strings": 48,
    "slow strings": 49,
    "choir": 52,
    "voice": 53,
    "trumpet": 56,
    "trombone": 57,
    "french horn": 60,
    "brass": 61,
    "soprano sax": 64,
    "alto sax": 65,
    "oboe": 68,
    "english horn": 69,
    "bassoon": 70,
    "clarinet": 71,
    "piccolo": 72,
    "flute": 73,
    "recorder": 74,
    "pan flute": 75,
    "ocarina": 79,
    "pad": 88,  # "new age" pad
    "warm pad": 89,
    "choir pad": 91,
    "halo pad": 94,
    "sweep pad": 95,
    "kalimba": 108,
}


def instrument_names() -> list[str]:
    """All instrument names the table knows, sorted."""
    return sorted(GM_PROGRAMS)


def _normalise(name: str) -> str:
    return " ".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


def gm_program(name: str) -> int:
    """GM program number (0-127) for an instrument name.

    Raises ``ValueError`` with the list of valid names when the name is unknown
    (pydantic turns it into a validation error; callers outside pydantic wrap
    it in an ``InputError``).
    """
    key = _normalise(name)
    if key not in GM_PROGRAMS:
        raise ValueError(
            f"Unknown instrument {name!r}. Valid instruments are: {', '.join(instrument_names())}."
        )
    return GM_PROGRAMS[key]


def _check_names(names: list[str]) -> list[str]:
    out = []
    for name in names:
        gm_program(name)  # raises with the valid list
        out.append(_normalise(name))
    return out


class MusicLimits(BaseModel):
    """What generated music may never exceed.

    Units: tempo in beats per minute, loudness as MIDI velocity (1-127).
    ``allowed_instruments`` empty means every instrument in the table except
    the forbidden ones. Percussion is always off and cannot be switched on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_bpm: float = Field(50.0, ge=20, le=200, description="slowest tempo, beats per minute")
    max_bpm: float = Field(120.0, ge=20, le=240, description="fastest tempo, beats per minute")
    max_velocity: int = Field(100, ge=20, le=127, description="loudest MIDI note velocity")
    max_velocity_step: int = Field(
        12, ge=1, le=60, description="largest change of mean velocity between segments"
    )
    allowed_instruments: list[str] = Field(default_factory=list)
    forbidden_instruments: list[str] = Field(default_factory=list)

    @field_validator("allowed_instruments", "forbidden_instruments")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        return _check_names(names)

    @model_validator(mode="after")
    def _consistent(self) -> "MusicLimits":
        if self.min_bpm > self.max_bpm:
            raise ValueError(
                f"The slowest tempo ({self.min_bpm} BPM) is above the fastest ({self.max_bpm} BPM)."
            )
        if not self.permitted():
            raise ValueError("The limits forbid every instrument; allow at least one.")
        return self

    @property
    def percussion(self) -> bool:
        """Always False: drum kits are never used (GM channel 10 stays silent)."""
        return False

    def permitted(self) -> list[str]:
        """Instrument names that may sound, in table order."""
        pool = self.allowed_instruments or list(GM_PROGRAMS)
        return [n for n in GM_PROGRAMS if n in pool and n not in self.forbidden_instruments]

    def is_permitted(self, name: str) -> bool:
        return _normalise(name) in self.permitted()

    def clip_bpm(self, bpm: float) -> float:
        return min(max(bpm, self.min_bpm), self.max_bpm)

    def clip_velocity(self, velocity: float) -> int:
        return int(round(min(max(velocity, 1), self.max_velocity)))
