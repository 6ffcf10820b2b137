"""attune.tools.music: mood-matched music by the iso principle.

``plan_music`` maps a start and target mood to a reasoned ``MusicPlan``;
``compose`` turns it into a music21 score; ``write_piece`` writes MIDI,
MusicXML, WAV, OGG, a piano roll and the plan; ``render_midi`` renders any
MIDI file within a time budget. Importing this package loads neither music21
nor FluidSynth: they load when first used.
"""

from __future__ import annotations

from .limits import GM_PROGRAMS, MusicLimits, gm_program, instrument_names
from .plan import Adjust, BreathPacing, Mood, MusicPlan, Segment, plan_music

__all__ = [
    "GM_PROGRAMS",
    "BreathPacing",
    "Mood",
    "MusicLimits",
    "MusicPlan",
    "PieceFiles",
    "Segment",
    "compose",
    "gm_program",
    "instrument_names",
    "plan_music",
    "Adjust",
    "render_midi",
    "write_piece",
]


def __getattr__(name: str):
    # heavy parts load on first use (STYLE.md 3)
    if name == "compose":
        from .composer import compose

        return compose
    if name in ("write_piece", "PieceFiles"):
        from . import output

        return getattr(output, name)
    if name == "render_midi":
        from .render import render_midi

        return render_midi
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
