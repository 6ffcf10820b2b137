"""The ``attune compose`` subcommand: plan, compose and render one piece.

``register(subparsers)`` adds the subcommand to the lead's argparse parser;
the handler prints the plan as JSON on stdout and returns an exit code.
``AttuneError`` subclasses are left to propagate: ``main()`` prints them.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run_compose"]


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compose", help="compose a mood-matched piece (iso principle) and render it",
        description="Plan a piece that starts at one mood and moves toward another, then write "
                    "it as WAV (and optionally MIDI and MusicXML). Prints the plan as JSON.")
    p.add_argument("--valence", type=float, required=True, help="starting valence, -1 to 1")
    p.add_argument("--arousal", type=float, required=True, help="starting arousal, -1 to 1")
    p.add_argument("--to-valence", type=float, default=None, help="target valence (default: the start)")
    p.add_argument("--to-arousal", type=float, default=None, help="target arousal (default: the start)")
    p.add_argument("--seconds", type=float, required=True, help="length in seconds (capped at 600)")
    p.add_argument("--out", required=True, help="WAV file to write")
    p.add_argument("--midi", default=None, help="also write MIDI here")
    p.add_argument("--musicxml", default=None, help="also write MusicXML here")
    p.add_argument("--breaths-per-minute", type=float, default=None, help="pace phrases to this breathing rate")
    p.add_argument("--heart-rate", type=float, default=None, help="current heart rate, beats per minute")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same piece)")
    p.add_argument("--soundfont", default=None, help="SoundFont 2 file (default: $ATTUNE_SOUNDFONT or FluidR3_GM)")
    p.set_defaults(handler=run_compose)
    return p


def run_compose(args: argparse.Namespace, soundfont: str | None = None) -> int:
    """Handle ``attune compose``; returns 0 on success."""
    from .output import write_piece
    from .plan import plan_music

    start = (args.valence, args.arousal)
    target = (args.valence if args.to_valence is None else args.to_valence,
              args.arousal if args.to_arousal is None else args.to_arousal)
    plan = plan_music(start, target, args.seconds, breaths_per_minute=args.breaths_per_minute,
                      heart_rate=getattr(args, "heart_rate", None), seed=args.seed)
    files = write_piece(plan, wav=args.out, midi=args.midi, musicxml=args.musicxml,
                        soundfont=getattr(args, "soundfont", None) or soundfont)
    sys.stdout.write(plan.model_dump_json(indent=2) + "\n")
    print(f"Wrote {files.wav} ({files.duration_s:.1f} s, {files.loudness:.1f} dBFS RMS, "
          f"peak {files.peak_dbfs:.1f} dBFS).", file=sys.stderr)
    return 0
