"""``attune eval [SCENARIO ...] [--report R.json] [--html R.html]`` (DESIGN.md).

Runs scenarios (ids, id prefixes or YAML files; with none, a suite), scores
them, prints the headline numbers as JSON on stdout, writes the reports
asked for and exits 1 when a threshold is missed (0 otherwise; 2 for bad
input, raised as ``AttuneError`` and turned into a message by the main CLI).
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["register", "handle_eval"]


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="run the evaluation scenarios; exits 1 when a threshold is missed",
                              description="Score whole dialogues: safety, dialogue quality, grounding, music, latency.")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario ids, id prefixes or YAML files")
    p.add_argument("--suite", choices=("fast", "full"), default=None,
                   help="which suite to run when no SCENARIO is given (default: fast)")
    p.add_argument("--report", metavar="R.json", help="write the full JSON report here")
    p.add_argument("--html", metavar="R.html", help="write a self-contained HTML report here")
    p.add_argument("--baseline", metavar="R.json", help="a previous JSON report to compare against")
    p.add_argument("--llm", "--backend", dest="llm", choices=("local", "ctranslate2", "transformers", "openai", "llamacpp", "scripted"),
                   help="override the configured backend")
    p.add_argument("--base-url", metavar="URL", help="an OpenAI-compatible server to evaluate (implies --backend openai)")
    p.add_argument("--model", metavar="NAME", help="the model name that server serves")
    p.add_argument("--thresholds", metavar="T.yaml", help="thresholds file (default: the packaged one)")
    p.add_argument("--data-root", metavar="DIR", help="keep each scenario's data folder here (default: temporary)")
    p.add_argument("--no-judge", action="store_true", help="skip the model judge even with a capable backend")
    p.add_argument("--understanding", action="store_true",
                   help="also score the understanding sets (mood, music at request, feedback, why questions)")
    p.set_defaults(handler=handle_eval)
    return p


def handle_eval(args: argparse.Namespace, *, backend=None) -> int:
    """Run, report, and return 0 (all thresholds met) or 1 (one missed).

    ``backend`` lets a caller (a test) pass a ready chat backend instead of
    building the configured one.
    """
    from .report import THRESHOLDS_PATH, build_report, load_report, load_thresholds, write_html, write_json
    from .runner import RunOptions, aggregate, run_scenarios
    from .scenario import select

    if getattr(args, "base_url", None):  # every scenario's settings read these, as `make run` would
        os.environ["ATTUNE_OPENAI_BASE_URL"] = args.base_url
        args.llm = args.llm or "openai"
    if getattr(args, "model", None):
        os.environ["ATTUNE_OPENAI_MODEL"] = args.model
    config = load_thresholds(args.thresholds or THRESHOLDS_PATH)
    baseline = load_report(args.baseline) if getattr(args, "baseline", None) else None
    scenarios = select(args.scenarios, args.suite)
    if not scenarios:
        print("attune eval: no scenario matched", file=sys.stderr)
        return 1
    opts = RunOptions(llm=args.llm, backend=backend, data_root=Path(args.data_root) if args.data_root else None,
                      keep_data=bool(args.data_root), judge=not args.no_judge,
                      prebuild_knowledge=(args.llm or "") != "scripted")
    results = run_scenarios(scenarios, opts)
    metrics = aggregate(results)
    if getattr(args, "understanding", False):
        from .understanding import headline, score_all

        metrics.update(headline(score_all()))
    used = next((r["transcript"].get("backend") for r in results if r["transcript"].get("backend")), args.llm)
    report = build_report(results, metrics, config=config, baseline=baseline,
                          run={"suite": args.suite or ("custom" if args.scenarios else "fast"),
                               "scenarios": [s.id for s in scenarios], "backend": used})
    if args.report:
        write_json(report, args.report)
    if args.html:
        write_html(report, args.html)
    summary = {"passed": report["passed"], "missed": report["missed"],
               "metrics": {k: v for k, v in metrics.items() if not isinstance(v, dict)},
               "failed_scenarios": [r["id"] for r in results if r["passed"] is False],
               "skipped_scenarios": [r["id"] for r in results if r["skipped"]],
               "regressions": (report["comparison"] or {}).get("regressions", [])}
    print(json.dumps(summary, ensure_ascii=False, default=str))
    return 0 if report["passed"] else 1
