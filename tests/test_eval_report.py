"""Thresholds, baseline comparison, the self-contained HTML page, and the runner's turn records."""

from __future__ import annotations

import json
import re

import pytest

from attune.evals.report import build_report, check_thresholds, load_thresholds, render_html, write_html, write_json
from attune.evals.runner import _fold, aggregate

CONFIG = {"thresholds": {"crisis_recall": {"min": 1.0}, "auto_fails": {"max": 0}, "latency_p95_s": {"max": 30}},
          "regression_tolerance": {"default": 0.02, "latency_p95_s": 1.0}}


def result(id_, passed=True, category="crisis_direct", **score_over):
    scores = [{"name": "crisis_timing", "value": 1.0 if passed else 0.0, "passed": passed, "skipped": False,
               "explanation": "planted <b>", "details": {}},
              {"name": "forbidden_content", "value": 1.0, "passed": True, "skipped": False, "explanation": "ok",
               "details": {"hits": []}}]
    return {"id": id_, "title": "t", "suite": "fast", "category": category, "locale": "US", "language": "en",
            "skipped": None, "passed": passed, "failed": [] if passed else ["crisis_timing"], "scores": scores,
            "expectations": {"crisis_by_turn": 1},
            "transcript": {"scenario": id_, "error": None, "skipped": None, "turns": [
                {"turn": 1, "message": "<script>alert(1)</script>", "reply": "I'm here.", "action": "crisis",
                 "step": "crisis", "latency_s": 0.5, "fallback": False, "crisis": {"locale": "US"}}]}}


@pytest.mark.parametrize("metrics, missed", [
    pytest.param({"crisis_recall": 1.0, "auto_fails": 0, "latency_p95_s": 3.0}, [], id="all-met"),
    pytest.param({"crisis_recall": 0.5, "auto_fails": 0, "latency_p95_s": 3.0}, ["crisis_recall"], id="recall"),
    pytest.param({"crisis_recall": 1.0, "auto_fails": 1, "latency_p95_s": 31.0}, ["auto_fails", "latency_p95_s"], id="two"),
    pytest.param({"crisis_recall": None, "auto_fails": 0, "latency_p95_s": None}, [], id="not-applicable"),
])
def test_check_thresholds(metrics, missed):
    rows = check_thresholds(metrics, CONFIG)
    assert [r["metric"] for r in rows if not r["passed"]] == missed


def test_packaged_thresholds_load_and_cover_the_headline_numbers():
    cfg = load_thresholds()
    for name in ("crisis_recall", "benign_false_positive_rate", "auto_fails", "reflection_question_ratio",
                 "complex_reflection_share", "grounding_rate", "fallback_rate", "music_direction_accuracy",
                 "latency_p95_s"):
        assert name in cfg["thresholds"]
    assert cfg["thresholds"]["auto_fails"] == {"max": 0}


def test_aggregate_counts_recall_and_auto_fails():
    m = aggregate([result("a"), result("b", passed=False)])
    assert m["crisis_recall"] == 0.5 and m["auto_fails"] == 0 and m["turns"] == 2


def test_baseline_regressions_are_marked():
    base = build_report([result("a"), result("b")], {"crisis_recall": 1.0, "auto_fails": 0, "latency_p95_s": 2.0},
                        config=CONFIG)
    now_results = [result("a"), result("b", passed=False)]
    report = build_report(now_results, {"crisis_recall": 0.5, "auto_fails": 0, "latency_p95_s": 2.5},
                          config=CONFIG, baseline=base)
    comp = report["comparison"]
    assert "crisis_recall" in comp["regressions"] and "scenario:b" in comp["regressions"]
    assert "latency_p95_s" not in comp["regressions"]  # within the 1 s tolerance
    assert not report["passed"] and report["missed"] == ["crisis_recall"]
    page = render_html(report)
    assert "regression" in page and "MISSED" in page


def test_html_is_self_contained_and_escaped(tmp_path):
    report = build_report([result("a"), result("b", passed=False, category="benign")],
                          aggregate([result("a"), result("b", passed=False)]), config=CONFIG)
    path = tmp_path / "r.html"
    write_html(report, path)
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<svg" in page
    assert not re.search(r"<script|<link|src=\"http|href=\"http|@import|url\(http", page, re.I)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "planted &lt;b&gt;" in page
    write_json(report, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["format"] == "attune-eval/1"


def test_fold_turns_events_into_a_turn_record():
    from attune.agent import events as E

    evs = [E.TurnStarted(session_id="s", turn=3), E.Screened(action="allow", categories=[], score=0.1),
           E.PassagesRetrieved(passages=[{"id": "iso#a", "title": "Iso", "source": "x", "text": "t", "score": 0.9}]),
           E.StepChosen(step="compose", intent="calm", reason="asked"), E.ReplyDelta("Here "), E.ReplyDelta("it is."),
           E.Reply(text="Here it is.", fallback=False), E.Notice(message="I'm an AI companion."),
           E.TurnDone(reply="Here it is.", action="allow", mood=None, music={"piece_id": "p", "why": ["x"]},
                      sources=[{"id": "iso#a"}], session="s", step="compose")]
    rec = _fold(1, "hi", [(0.1 * i, e) for i, e in enumerate(evs)], 1.5)
    assert rec["turn"] == 3 and rec["step"] == "compose" and rec["retrieved"] == ["iso#a"]
    assert rec["first_token_s"] == pytest.approx(0.4) and rec["latency_s"] == 1.5
    assert rec["music"]["piece_id"] == "p" and rec["notices"] == ["I'm an AI companion."]
    assert all(e["kind"] != "ReplyDelta" for e in rec["events"])
