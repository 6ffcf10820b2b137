"""Draw a piano roll (time in seconds against MIDI pitch) of a MIDI file as a PNG.

Reads the file back with ``midiinfo`` so the picture shows what was written.
Uses matplotlib's Agg backend (no display needed); imported only when called.
"""

from __future__ import annotations

import os
from pathlib import Path

from attune.common.errors import InputError

from .midiinfo import read_midi

__all__ = ["piano_roll"]

_COLOURS = ["#3b6ea5", "#8fb996", "#c9835b", "#a05195", "#666666"]


def piano_roll(midi_path: str | os.PathLike, png_path: str | os.PathLike, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    info = read_midi(midi_path)
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=110)
    try:
        by_channel: dict[int, list] = {}
        for n in info.notes:
            by_channel.setdefault(n.channel, []).append(n)
        for i, (ch, notes) in enumerate(sorted(by_channel.items())):
            colour = _COLOURS[i % len(_COLOURS)]
            for n in notes:
                ax.broken_barh([(n.start_s, n.end_s - n.start_s)], (n.pitch - 0.4, 0.8),
                               facecolors=colour, alpha=0.35 + 0.6 * n.velocity / 127)
        ax.set_xlabel("time (seconds)", fontsize=12)
        ax.set_ylabel("pitch", fontsize=12)
        ax.set_xlim(0, max(info.duration_s, 1.0))
        pitches = [n.pitch for n in info.notes] or [60]
        cs = [p for p in range(0, 128, 12) if min(pitches) - 6 <= p <= max(pitches) + 6]  # every C in range
        ax.set_yticks(cs, [f"C{p // 12 - 1}" for p in cs])  # C4 is middle C (MIDI 60)
        ax.tick_params(labelsize=11)
        ax.grid(axis="y", color="#e2e8ef", linewidth=0.8)
        if title:
            ax.set_title(title if len(title) <= 110 else title[:107] + "...", fontsize=10)
        fig.tight_layout()
        try:
            fig.savefig(str(png_path))
        except OSError as exc:
            raise InputError(f"The image {png_path} cannot be written ({exc.strerror}).") from None
    finally:
        plt.close(fig)
    return Path(png_path)
