"""Small, music21-free pitch arithmetic: scales, diatonic chords, spelling.

Pitches are MIDI numbers (60 = middle C); names use music21 spelling ("B-"
for B flat). Minor keys use the harmonic minor for the dominant and the
natural minor elsewhere. Nothing here knows about phrases or time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Chord", "Key", "pivot_root", "spell"]

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_LETTERS = "CDEFGAB"
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_NATURAL_MINOR = (0, 2, 3, 5, 7, 8, 10)


def _pc(name: str) -> int:
    alter = name[1:].count("#") - name[1:].count("-")
    return (_LETTER_PC[name[0]] + alter) % 12


def _spell_degree(tonic: str, degree: int, pc: int) -> str:
    """Name of ``pc`` written on the letter ``degree`` steps above the tonic letter."""
    letter = _LETTERS[(_LETTERS.index(tonic[0]) + degree) % 7]
    diff = (pc - _LETTER_PC[letter] + 6) % 12 - 6  # -6..5 semitones
    return letter + ("#" * diff if diff > 0 else "-" * -diff)


def pivot_root(major_tonic: str) -> str:
    """Root of the pivot chord: ii of the major key, iv of its relative minor."""
    return _spell_degree(major_tonic, 1, (_pc(major_tonic) + 2) % 12).replace("-", "b")


@dataclass(frozen=True)
class Chord:
    """A diatonic chord: pitch classes from the root up, and a chord-symbol figure."""

    degree: int  # 1-7
    pcs: tuple[int, ...]  # pitch classes, root first
    names: tuple[str, ...]  # spelled names, root first
    figure: str  # e.g. "Dm", "E7" (music21 ChordSymbol spelling)


@dataclass(frozen=True)
class Key:
    tonic: str  # e.g. "B-"
    mode: str  # "major" | "minor"

    @property
    def tonic_pc(self) -> int:
        return _pc(self.tonic)

    def scale_pcs(self, leading_tone: bool = False) -> tuple[int, ...]:
        steps = list(_MAJOR if self.mode == "major" else _NATURAL_MINOR)
        if self.mode == "minor" and leading_tone:
            steps[6] = 11
        return tuple((self.tonic_pc + s) % 12 for s in steps)

    def name_of(self, pc: int) -> str:
        """Spelling of a pitch class in this key (diatonic or raised seventh)."""
        return _names(self.tonic, self.mode).get(pc % 12) or spell(pc)

    def chord(self, degree: int, seventh: bool = False) -> Chord:
        return _chord(self.tonic, self.mode, degree, seventh)


@lru_cache(maxsize=None)
def _names(tonic: str, mode: str) -> dict[int, str]:
    key = Key(tonic, mode)
    out = {}
    for lt in (False, True):
        for i, pc in enumerate(key.scale_pcs(lt)):
            out.setdefault(pc, _spell_degree(tonic, i, pc))
    return out


@lru_cache(maxsize=None)
def _chord(tonic: str, mode: str, degree: int, seventh: bool) -> Chord:
    key = Key(tonic, mode)
    # the dominant (and leading-tone chord) of a minor key takes the raised seventh
    scale = key.scale_pcs(leading_tone=degree in (5, 7))
    idx = [(degree - 1 + 2 * i) % 7 for i in range(4 if seventh else 3)]
    pcs = tuple(scale[i] for i in idx)
    names = tuple(_spell_degree(tonic, i, scale[i]) for i in idx)
    third = (pcs[1] - pcs[0]) % 12
    fifth = (pcs[2] - pcs[0]) % 12
    if fifth == 6:
        kind = "dim"
    elif third == 3:
        kind = "m"
    else:
        kind = ""
    if seventh:
        sev = (pcs[3] - pcs[0]) % 12
        kind = {("", 10): "7", ("", 11): "maj7", ("m", 10): "m7", ("dim", 10): "m7b5"}.get((kind, sev), kind)
    root = names[0].replace("-", "b")
    return Chord(degree, pcs, names, root + kind)


_SHARP_NAMES = ["C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B"]


def spell(pc: int) -> str:
    """A plain default spelling of a pitch class."""
    return _SHARP_NAMES[pc % 12]
