"""Draw a piano roll (time in seconds against MIDI pitch) of a MIDI file as a PNG.

Reads the file back with ``midiinfo`` so the picture shows what was written.
Uses matplotlib's Agg backend (no display needed); imported only when called.
"""

from __future__ import annotations

import os
from pathlib import Path

from attune.agent.errors import InputError

from .midiinfo import read_midi

__all__ = ["piano_roll"]

_COLOURS = ["#3b6ea5", "#8fb996", "#c9835b", "#a05195", "#666666"]


def piano_roll(midi_path: str | os.PathLike, png_path: str | os.PathLike, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    info = read_midi(midi_path)
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    try:
        by_channel: dict[int, list] = {}
        for n in info.notes:
            by_channel.setdefault(n.channel, []).append(n)
        for i, (ch, notes) in enumerate(sorted(by_channel.items())):
            colour = _COLOURS[i % len(_COLOURS)]
            for n in notes:
                ax.broken_barh([(n.start_s, n.end_s - n.start_s)], (n.pitch - 0.4, 0.8),
                               facecolors=colour, alpha=0.35 + 0.6 * n.velocity / 127)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("MIDI pitch")
        ax.set_xlim(0, max(info.duration_s, 1.0))
        if title:
            ax.set_title(title, fontsize=7)
        fig.tight_layout()
        try:
            fig.savefig(str(png_path))
        except OSError as exc:
            raise InputError(f"The image {png_path} cannot be written ({exc.strerror}).") from None
    finally:
        plt.close(fig)
    return Path(png_path)
