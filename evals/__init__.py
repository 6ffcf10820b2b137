"""attune.evals: the evaluation harness.

Scenarios are YAML data (``scenarios/*.yaml``, validated by ``scenario``);
``runner`` plays them against a fresh agent context and records timestamped
event streams as transcripts; ``scorers`` are functions
``(transcript, scenario) -> Score``; ``report`` applies ``thresholds.yaml``,
compares with a baseline and writes JSON and HTML; ``cli`` adds
``attune eval``. Importing this package loads no model.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Scenario", "load_scenarios", "select", "Score", "SCORERS", "score_transcript", "forbidden_hits",
    "JUDGE_PROMPT", "classify", "label_reply", "RunOptions", "run_scenarios", "aggregate",
    "build_report", "render_html", "load_thresholds", "check_thresholds",
]

_WHERE = {
    "Scenario": "scenario", "load_scenarios": "scenario", "select": "scenario",
    "Score": "scorers", "SCORERS": "scorers", "score_transcript": "scorers", "forbidden_hits": "scorers",
    "JUDGE_PROMPT": "scorers", "classify": "dialogue_acts", "label_reply": "dialogue_acts",
    "RunOptions": "runner", "run_scenarios": "runner", "aggregate": "runner",
    "build_report": "report", "render_html": "report", "load_thresholds": "report", "check_thresholds": "report",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
