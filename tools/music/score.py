"""Turn an ``Arrangement`` into a music21 score (the only module that builds music21 objects).

Parts are filled with ``insert`` at known offsets, which is fast; music21
makes measures itself when MusicXML is written. ``midi_copy`` returns a copy
without chord symbols, because music21 writes them to MIDI as notes that
never end (see PITFALLS.md).
"""

from __future__ import annotations

from .composer import Arrangement
from .plan import MusicPlan

__all__ = ["to_score", "add_chord_symbols", "midi_copy"]

_PART_ORDER = ("melody", "harmony", "bass")


def _pitch(p: int, name: str):
    from music21 import pitch

    if not name:
        return pitch.Pitch(midi=p)
    alter = name.count("#") - name.count("-")
    return pitch.Pitch(f"{name}{(p - alter) // 12 - 1}")


def to_score(plan: MusicPlan, arr: Arrangement, chord_symbols: bool = True):
    """The score; without ``chord_symbols`` it can be written to MIDI as it is (``add_chord_symbols`` later)."""
    from music21 import chord, instrument, key, meter, metadata, note, stream, tempo, volume

    score = stream.Score()
    score.metadata = metadata.Metadata(title="Attune piece", composer="Attune")
    parts = {}
    for role in _PART_ORDER:
        part = stream.Part(id=role)
        part.partName = role.capitalize()
        inst = instrument.instrumentFromMidiProgram(plan.programs[role])
        inst.midiProgram = plan.programs[role]
        part.insert(0, inst)
        part.insert(0, meter.TimeSignature(f"{arr.beats_per_bar}/4"))
        for off, tonic, mode in arr.keys:
            part.insert(off, key.Key(tonic, mode))
        parts[role] = part
    for off, bpm in arr.tempos:
        parts["melody"].insert(off, tempo.MetronomeMark(number=bpm, referent=1.0))
    for ev in arr.events:
        names = ev.names if len(ev.names) == len(ev.pitches) else ("",) * len(ev.pitches)
        if len(ev.pitches) == 1:
            obj = note.Note(_pitch(ev.pitches[0], names[0]), quarterLength=ev.length)
        else:
            obj = chord.Chord([_pitch(p, n) for p, n in zip(ev.pitches, names)], quarterLength=ev.length)
        obj.volume = volume.Volume(velocity=ev.velocity)
        parts[ev.part].insert(ev.offset, obj)
    for role in _PART_ORDER:
        score.insert(0, parts[role])
    if chord_symbols:
        add_chord_symbols(score, arr)
    return score


def add_chord_symbols(score, arr: Arrangement) -> None:
    """Chord names above the harmony part, for MusicXML (they must not go to MIDI: ``midi_copy``)."""
    from music21 import harmony

    part = next(p for p in score.parts if p.id == "harmony")
    for off, figure in arr.chords:
        sym = harmony.ChordSymbol(figure.replace("b", "-") if len(figure) > 1 and figure[1] == "b" else figure)
        sym.quarterLength = 0
        part.insert(off, sym)


def midi_copy(score):
    """A deep copy of ``score`` with every ChordSymbol removed (safe to write as MIDI)."""
    import copy

    from music21 import harmony

    clean = copy.deepcopy(score)
    for part in clean.parts:
        syms = list(part.recurse().getElementsByClass(harmony.ChordSymbol))
        for sym in syms:
            sym.activeSite.remove(sym)
    return clean
