"""`attune mood` command and the text benchmark."""

from __future__ import annotations

import io
import json

import pytest

from attune.tools.mood.bench import bench
from attune.tools.mood.cli import main

KEYS = {"text", "valence", "arousal", "emotions", "confidence"}


def test_one_text(capsys):
    assert main(["mood", "--text", "I'm not happy at all"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out) and out["valence"] < 0 and out["text"] == "I'm not happy at all"


def test_stdin_lines(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("I feel calm\n\nI'm furious!\n"))
    assert main(["mood"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["I feel calm", "", "I'm furious!"]
    assert rows[1]["confidence"] == 0
    assert rows[2]["valence"] < 0 < rows[2]["arousal"]


def test_heart_only_prints_one_object(capsys):
    assert main(["mood", "--hr", "110", "--resting-hr", "60", "--evidence"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["text"] is None and out["arousal"] > 0 and out["evidence"]


@pytest.mark.parametrize("argv,message", [
    (["mood", "--hr", "0"], "25-240"),
    (["mood", "--hr", "400"], "25-240"),
    (["mood", "--audio", "/nonexistent.wav"], "does not exist"),
    (["mood", "--rr-file", "/nonexistent.csv"], "Cannot read"),
], ids=["hr-zero", "hr-400", "missing-audio", "missing-rr"])
def test_bad_input_exits_nonzero(capsys, argv, message):
    assert main(argv) != 0
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_bench_reports_percentiles():
    result = bench(rounds=3)
    assert {"p50_ms", "p95_ms", "first_call_s", "ok"} <= set(result)
    assert 0 < result["p50_ms"] <= result["p95_ms"]
