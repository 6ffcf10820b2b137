"""`attune mood`: print one JSON mood per message (DESIGN.md contract).

    attune mood [--text T] [--hr BPM] [--rr-file F] [--audio F]
                [--image F] [--eeg-file F] [--eeg-board NAME]
                [--resting-hr BPM] [--resting-rmssd MS] [--resting-eeg-index X] [--evidence]

--image reads the facial expression in a photo (the photo is not kept);
--eeg-file plays a BrainFlow recording back (board named by --eeg-board,
default the synthetic board) and reads arousal from its band powers, against
--resting-eeg-index if given, else against the recording's own start.

With --text, or with only biometric inputs, prints one object. With no input
at all, reads one message per stdin line. Each object is
{"text", "valence", "arousal", "emotions", "confidence", "label"} (+ "evidence"
with --evidence). Input errors go to stderr with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional

__all__ = ["register", "run", "main"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add the `mood` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser("mood", help="infer valence, arousal and emotions from text, voice or heart data",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--text", help="one message; without it (and without other inputs) read stdin lines")
    p.add_argument("--hr", type=float, metavar="BPM", help="pulse in beats per minute (25-240)")
    p.add_argument("--rr-file", metavar="F", help="CSV of RR intervals or heart rate")
    p.add_argument("--audio", metavar="F", help="WAV/OGG/FLAC voice recording")
    p.add_argument("--image", metavar="F", help="a photo of your face (PNG/JPEG): expression as weak evidence")
    p.add_argument("--eeg-file", metavar="F", help="a BrainFlow EEG recording (CSV as DataFilter.write_file writes it)")
    p.add_argument("--eeg-board", default="synthetic", metavar="NAME",
                   help="BrainFlow board the recording came from (name or id; default: synthetic)")
    p.add_argument("--resting-hr", type=float, metavar="BPM", help="your resting heart rate (baseline)")
    p.add_argument("--resting-rmssd", type=float, metavar="MS", help="your resting RMSSD in ms (baseline)")
    p.add_argument("--resting-eeg-index", type=float, metavar="X",
                   help="your calm EEG index, beta/(alpha+theta) (baseline)")
    p.add_argument("--evidence", action="store_true", help="include the evidence list")
    p.set_defaults(func=run, handler=run)
    return p


def _row(text: Optional[str], est, with_evidence: bool) -> str:
    out = {"text": text, **est.brief(), "label": est.label()}
    if with_evidence:
        out["evidence"] = [e.model_dump(exclude_none=True) for e in est.evidence]
    return json.dumps(out, ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    """Handle `attune mood`; returns the exit code."""
    from attune.common.errors import AttuneError

    from .fusion import infer
    from .model import Baseline

    try:
        baseline = None
        rest = dict(resting_hr=args.resting_hr, rmssd=args.resting_rmssd, eeg_index=args.resting_eeg_index)
        if any(v is not None for v in rest.values()):
            try:
                baseline = Baseline(**rest)
            except ValueError:
                from attune.common.errors import InputError

                raise InputError("Resting heart rate must be 25-240 beats per minute, resting RMSSD 0-500 ms "
                                 "and the resting EEG index above 0.") from None
        bio = dict(heart_rate=args.hr, rr=args.rr_file, voice=args.audio, image=args.image, eeg=args.eeg_file,
                   eeg_board=args.eeg_board, baseline=baseline)
        if args.text is not None or any(v is not None for v in (args.hr, args.rr_file, args.audio, args.image,
                                                                 args.eeg_file)):
            print(_row(args.text, infer(text=args.text, **bio), args.evidence), flush=True)
            return 0
        for line in sys.stdin:
            line = line.rstrip("\r\n")
            print(_row(line, infer(text=line), args.evidence), flush=True)
        return 0
    except AttuneError as err:
        # user-fixable input: a clean message, no traceback (STYLE.md 7)
        print(f"attune mood: {err}", file=sys.stderr)
        return err.exit_code


def main(argv: Optional[list[str]] = None) -> int:
    """Stand-alone entry for testing: `python -m attune.tools.mood.cli mood --text ...`."""
    parser = argparse.ArgumentParser(prog="attune")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
