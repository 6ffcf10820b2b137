"""Read a MIDI file back into plain numbers: notes in seconds, tempos, programs.

Used by tests and the piano roll to analyse what was actually written, not
what the code meant to write. Handles format 0 and 1 files with tempo
changes; ignores everything but notes, tempos and program changes.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

__all__ = ["MidiNote", "MidiSummary", "read_midi"]


class MidiNote(BaseModel):
    start_s: float  # seconds
    end_s: float  # seconds
    pitch: int  # MIDI pitch
    velocity: int
    channel: int  # 1-16
    track: int


class MidiSummary(BaseModel):
    duration_s: float  # seconds, to the last note-off
    notes: list[MidiNote]
    tempos: list[tuple[float, float]]  # (seconds, beats per minute)
    programs: list[tuple[int, int]]  # (channel 1-16, GM program 0-127)
    hanging_notes: int  # note-ons never switched off


def read_midi(path: str | Path) -> MidiSummary:
    """Parse ``path`` with music21's low-level MIDI reader."""
    from music21 import midi

    mf = midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    tpq = mf.ticksPerQuarterNote
    raw = []  # (tick, order, track, event)
    for ti, track in enumerate(mf.tracks):
        tick = 0
        for i, ev in enumerate(track.events):
            if isinstance(ev, midi.DeltaTime):
                tick += ev.time
                continue
            raw.append((tick, ti, i, ev))
    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    tempo_ticks = [(0, 500000)]
    for tick, _, _, ev in raw:
        if ev.type == midi.MetaEvents.SET_TEMPO:
            usec = int.from_bytes(ev.data, "big") if isinstance(ev.data, bytes) else int(ev.data)
            tempo_ticks.append((tick, usec))
    tempo_ticks.sort()

    def seconds(tick: int) -> float:
        s, last_tick, usec = 0.0, 0, 500000
        for t, u in tempo_ticks:
            if t >= tick:
                break
            s += (t - last_tick) * usec / tpq / 1e6
            last_tick, usec = t, u
        return s + (tick - last_tick) * usec / tpq / 1e6

    notes, open_notes, programs = [], {}, []
    for tick, ti, _, ev in raw:
        if ev.type == midi.ChannelVoiceMessages.NOTE_ON and ev.velocity > 0:
            open_notes.setdefault((ti, ev.channel, ev.pitch), []).append((tick, ev.velocity))
        elif ev.type in (midi.ChannelVoiceMessages.NOTE_OFF, midi.ChannelVoiceMessages.NOTE_ON):
            stack = open_notes.get((ti, ev.channel, ev.pitch))
            if stack:
                on, vel = stack.pop(0)
                notes.append(MidiNote(start_s=seconds(on), end_s=seconds(tick), pitch=ev.pitch,
                                      velocity=vel, channel=ev.channel, track=ti))
        elif ev.type == midi.ChannelVoiceMessages.PROGRAM_CHANGE:
            programs.append((ev.channel, ev.data))
    hanging = sum(len(v) for v in open_notes.values())
    notes.sort(key=lambda n: (n.start_s, n.pitch))
    tempos = [(seconds(t), round(60e6 / u, 3)) for t, u in tempo_ticks[1:]] or [(0.0, 120.0)]
    return MidiSummary(duration_s=max((n.end_s for n in notes), default=0.0), notes=notes,
                       tempos=tempos, programs=programs, hanging_notes=hanging)
