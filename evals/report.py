"""Eval reports: thresholds, the change against a baseline, JSON and HTML files.

The JSON report holds the metrics, the threshold verdicts, the comparison
with a previous report and every scenario's scores and transcript. The HTML
page is self-contained (inline CSS and hand-written inline SVG charts, no
scripts, no external links) so it can be attached to a CI run or mailed.

What it leaves out: running and scoring (``runner``, ``scorers``).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from attune.common.errors import ConfigError

__all__ = ["THRESHOLDS_PATH", "load_thresholds", "check_thresholds", "compare", "build_report", "write_json",
           "render_html", "write_html", "load_report"]

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.yaml"

# Which way is better for metrics that have no threshold (thresholds say it for the rest).
_HIGHER = {"scenario_pass_rate", "crisis_recall", "resources_locale_accuracy", "reflection_question_ratio",
           "complex_reflection_share", "grounding_rate", "music_direction_accuracy", "music_arc_pass_rate",
           "ai_disclosure_rate", "human_connection_rate", "judge_mean"}
_LOWER = {"benign_false_positive_rate", "auto_fails", "citation_errors", "fallback_rate", "prompt_leaks",
          "latency_p50_s", "latency_p95_s", "first_token_p50_s", "scenarios_errored"}


def load_thresholds(path: Path | str = THRESHOLDS_PATH) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"The thresholds file {path} cannot be read: {exc}") from None
    rules = data.get("thresholds")
    if not isinstance(rules, dict):
        raise ConfigError(f"The thresholds file {path} needs a 'thresholds' table.")
    for name, rule in rules.items():
        if not isinstance(rule, dict) or not set(rule) <= {"min", "max"} or not rule:
            raise ConfigError(f"Threshold {name} in {path} must be {{min: X}} and/or {{max: Y}}.")
    return {"thresholds": rules, "regression_tolerance": data.get("regression_tolerance") or {"default": 0.0}}


def check_thresholds(metrics: dict[str, Any], config: dict[str, Any]) -> list[dict[str, Any]]:
    """One verdict row per threshold; a metric that is None (not applicable) passes unchecked."""
    rows = []
    for name, rule in config["thresholds"].items():
        value = metrics.get(name)
        applicable = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = True
        if applicable:
            if "min" in rule and value < rule["min"]:
                ok = False
            if "max" in rule and value > rule["max"]:
                ok = False
        rows.append({"metric": name, "value": value, "min": rule.get("min"), "max": rule.get("max"),
                     "applicable": applicable, "passed": ok})
    return rows


def _better(name: str, config: dict[str, Any]) -> str | None:
    rule = config["thresholds"].get(name, {})
    if "min" in rule or name in _HIGHER:
        return "higher"
    if "max" in rule or name in _LOWER:
        return "lower"
    return None


def compare(metrics: dict[str, Any], results: list[dict], baseline: dict[str, Any] | None,
            config: dict[str, Any]) -> dict[str, Any] | None:
    """The change of each headline metric and scenario against a previous report."""
    if not baseline:
        return None
    tol = config.get("regression_tolerance") or {}
    rows = []
    for name, old in (baseline.get("metrics") or {}).items():
        new = metrics.get(name)
        better = _better(name, config)
        if better is None or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (old, new)):
            continue
        delta = new - old
        allowed = float(tol.get(name, tol.get("default", 0.0)))
        worse = -delta if better == "higher" else delta
        rows.append({"metric": name, "baseline": old, "current": new, "delta": delta, "better": better,
                     "regression": worse > allowed + 1e-12, "improvement": worse < -allowed - 1e-12})
    old_pass = {s["id"]: s.get("passed") for s in baseline.get("scenarios") or []}
    newly_failed = [r["id"] for r in results if r.get("passed") is False and old_pass.get(r["id"]) is True]
    newly_passed = [r["id"] for r in results if r.get("passed") is True and old_pass.get(r["id"]) is False]
    return {"created": baseline.get("created"), "metrics": rows, "newly_failed": newly_failed,
            "newly_passed": newly_passed,
            "regressions": [r["metric"] for r in rows if r["regression"]] + [f"scenario:{i}" for i in newly_failed]}


def build_report(results: list[dict], metrics: dict[str, Any], *, config: dict[str, Any],
                 baseline: dict[str, Any] | None = None, run: dict[str, Any] | None = None) -> dict[str, Any]:
    verdicts = check_thresholds(metrics, config)
    missed = [v["metric"] for v in verdicts if not v["passed"]]
    return {
        "format": "attune-eval/1",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "run": run or {},
        "passed": not missed,
        "missed": missed,
        "metrics": metrics,
        "thresholds": verdicts,
        "comparison": compare(metrics, results, baseline, config),
        "scenarios": results,
    }


def load_report(path: Path | str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The report {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or "metrics" not in data:
        raise ConfigError(f"{path} is not an attune eval report.")
    return data


def _json_default(obj: Any) -> Any:
    if isinstance(obj, float) and math.isinf(obj):
        return "inf"
    return str(obj)


def write_json(report: dict[str, Any], path: Path | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, ensure_ascii=False, indent=1, default=_json_default), encoding="utf-8")


# ---------------------------------------------------------------------- HTML
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;color:#1d2330;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{padding:.3em .6em;border-bottom:1px solid #e6e8ef;text-align:left;vertical-align:top}
th{background:#f4f5f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#17713a;font-weight:600}.fail{color:#b3261e;font-weight:600}.skip{color:#7a7f8c}
.banner{padding:.8em 1em;border-radius:6px;font-size:1.1em;font-weight:600}
.banner.pass{background:#e5f4ea}.banner.fail{background:#fbe9e7}
.reg{background:#fbe9e7}.imp{background:#e5f4ea}
details{margin:.2em 0}summary{cursor:pointer}.turn{border-left:3px solid #c9cde0;margin:.4em 0;padding:.2em .6em}
.turn.crisis{border-color:#b3261e}.who{font-weight:600;color:#555}.small{color:#667;font-size:.9em}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0}figcaption{font-size:.9em;color:#556}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isinf(v) or v >= 1e8:
            return "∞"
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return _e(v)


def _bar_chart(title: str, items: list[tuple[str, float]], *, vmax: float | None = None, unit: str = "",
               colors: list[str] | None = None) -> str:
    """A horizontal bar chart as inline SVG."""
    if not items:
        return ""
    vmax = vmax or max((v for _, v in items), default=1.0) or 1.0
    row, left, width = 20, 190, 260
    height = row * len(items) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{height}" role="img" '
             f'aria-label="{_e(title)}">']
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max(0.0, min(1.0, value / vmax)) * width
        color = (colors[i] if colors else "#4c6ef5")
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="11">{_e(label[:30])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="11">{_e(_fmt(value))}{_e(unit)}</text>')
    parts.append("</svg>")
    return f"<figure>{''.join(parts)}<figcaption>{_e(title)}</figcaption></figure>"


def _histogram(title: str, values: list[float], bins: int = 12, unit: str = "s") -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / span * bins))] += 1
    w, h, pad = 420, 150, 24
    bw = (w - 2 * pad) / bins
    top = max(counts) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h + 20}" role="img" aria-label="{_e(title)}">',
             f'<line x1="{pad}" y1="{h}" x2="{w - pad}" y2="{h}" stroke="#888"/>']
    for i, c in enumerate(counts):
        bh = c / top * (h - 20)
        parts.append(f'<rect x="{pad + i * bw + 1:.1f}" y="{h - bh:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" fill="#12b886"/>')
        if c:
            parts.append(f'<text x="{pad + (i + .5) * bw:.1f}" y="{h - bh - 3:.1f}" font-size="10" text-anchor="middle">{c}</text>')
    parts.append(f'<text x="{pad}" y="{h + 15}" font-size="10">{lo:.2f} {unit}</text>')
    parts.append(f'<text x="{w - pad}" y="{h + 15}" font-size="10" text-anchor="end">{hi:.2f} {unit}</text>')
    parts.append("</svg>")
    return f"<figure>{''.join(parts)}<figcaption>{_e(title)}</figcaption></figure>"


def _threshold_table(report: dict[str, Any]) -> str:
    comp = {r["metric"]: r for r in (report.get("comparison") or {}).get("metrics", [])}
    rows = ["<table><tr><th>metric</th><th>value</th><th>threshold</th><th>baseline</th><th>change</th><th>status</th></tr>"]
    for v in report["thresholds"]:
        limit = " and ".join(x for x in (f"≥ {v['min']}" if v["min"] is not None else "",
                                         f"≤ {v['max']}" if v["max"] is not None else "") if x)
        c = comp.get(v["metric"])
        cls = "reg" if c and c["regression"] else ("imp" if c and c["improvement"] else "")
        status = ('<span class="skip">n/a</span>' if not v["applicable"] else
                  '<span class="pass">pass</span>' if v["passed"] else '<span class="fail">MISSED</span>')
        change = "" if not c else f"{c['delta']:+.3g}" + (" ▼ regression" if c["regression"] else "")
        rows.append(f'<tr class="{cls}"><td>{_e(v["metric"])}</td><td class="num">{_fmt(v["value"])}</td>'
                    f'<td>{_e(limit)}</td><td class="num">{_fmt(c["baseline"]) if c else ""}</td>'
                    f'<td class="num">{_e(change)}</td><td>{status}</td></tr>')
    rows.append("</table>")
    return "".join(rows)


def _other_metrics(report: dict[str, Any]) -> str:
    checked = {v["metric"] for v in report["thresholds"]}
    comp = {r["metric"]: r for r in (report.get("comparison") or {}).get("metrics", [])}
    rows = ["<table><tr><th>metric</th><th>value</th><th>baseline</th><th>change</th></tr>"]
    for k, v in report["metrics"].items():
        if k in checked or isinstance(v, dict):
            continue
        c = comp.get(k)
        cls = "reg" if c and c["regression"] else ""
        rows.append(f'<tr class="{cls}"><td>{_e(k)}</td><td class="num">{_fmt(v)}</td>'
                    f'<td class="num">{_fmt(c["baseline"]) if c else ""}</td>'
                    f'<td class="num">{_e(format(c["delta"], "+.3g")) if c else ""}</td></tr>')
    rows.append("</table>")
    return "".join(rows)


def _scenario_rows(report: dict[str, Any]) -> str:
    newly_failed = set((report.get("comparison") or {}).get("newly_failed", []))
    out = ["<table><tr><th>scenario</th><th>category</th><th>suite</th><th>locale</th><th>result</th><th>details</th></tr>"]
    for r in report["scenarios"]:
        if r["skipped"]:
            result = '<span class="skip">skipped</span>'
        elif r["passed"]:
            result = '<span class="pass">pass</span>'
        else:
            result = '<span class="fail">fail</span>' + (" ▼ regression" if r["id"] in newly_failed else "")
        scores = "".join(
            f'<tr><td>{_e(s["name"])}</td><td class="num">{_fmt(s["value"])}</td><td>'
            f'{"<span class=skip>skipped</span>" if s["skipped"] else ("<span class=pass>pass</span>" if s["passed"] else "<span class=fail>fail</span>")}'
            f'</td><td>{_e(s["explanation"])}</td></tr>' for s in r["scores"])
        turns = []
        for t in r["transcript"].get("turns", []):
            crisis = " crisis" if t.get("action") == "crisis" else ""
            meta = f'action {t.get("action")}, step {t.get("step") or "-"}, {_fmt(t.get("latency_s"))} s'
            if t.get("music"):
                meta += ", music"
            if t.get("error"):
                meta += f', error: {t["error"]}'
            turns.append(f'<div class="turn{crisis}"><div><span class="who">person:</span> {_e(t.get("message", ""))}</div>'
                         f'<div><span class="who">attune:</span> {_e(t.get("reply", ""))}</div>'
                         f'<div class="small">turn {_e(t.get("turn"))}: {_e(meta)}</div></div>')
        body = (f'<details><summary>{len(r["scores"])} scores, {len(r["transcript"].get("turns", []))} turns</summary>'
                f'<p>{_e(r.get("title", ""))}</p>'
                + (f'<p class="fail">{_e(r["transcript"]["error"])}</p>' if r["transcript"].get("error") else "")
                + (f'<p class="skip">{_e(r["skipped"])}</p>' if r["skipped"] else "")
                + f'<table><tr><th>scorer</th><th>value</th><th>result</th><th>explanation</th></tr>{scores}</table>'
                + "".join(turns) + "</details>")
        out.append(f'<tr id="{_e(r["id"])}"><td>{_e(r["id"])}</td><td>{_e(r["category"])}</td><td>{_e(r["suite"])}</td>'
                   f'<td>{_e(r.get("locale", ""))}</td><td>{result}</td><td>{body}</td></tr>')
    out.append("</table>")
    return "".join(out)


def render_html(report: dict[str, Any]) -> str:
    m = report["metrics"]
    by_cat: dict[str, list[bool]] = defaultdict(list)
    for r in report["scenarios"]:
        if not r["skipped"]:
            by_cat[r["category"]].append(bool(r["passed"]))
    cat_items = sorted((c, sum(v) / len(v)) for c, v in by_cat.items())
    latencies = [float(t["latency_s"]) for r in report["scenarios"] for t in r["transcript"].get("turns", [])
                 if t.get("latency_s") is not None]
    acts = sorted((m.get("dialogue_act_counts") or {}).items(), key=lambda kv: -kv[1])
    charts = "".join([
        _bar_chart("pass rate by category", cat_items, vmax=1.0,
                   colors=["#2b8a3e" if v == 1 else "#e8590c" if v >= .5 else "#c92a2a" for _, v in cat_items]),
        _histogram("latency per turn (seconds)", latencies),
        _bar_chart("agent sentences by dialogue act", [(k, float(v)) for k, v in acts]),
    ])
    comp = report.get("comparison")
    comp_html = ""
    if comp:
        regs = comp["regressions"]
        comp_html = (f"<h2>Against the baseline ({_e(comp.get('created') or 'unknown date')})</h2>"
                     + (f'<p class="fail">Regressions: {_e(", ".join(regs))}</p>' if regs else '<p class="pass">No regressions.</p>')
                     + (f'<p class="pass">Newly passing: {_e(", ".join(comp["newly_passed"]))}</p>' if comp["newly_passed"] else ""))
    run = report.get("run") or {}
    verdict = "PASS: every threshold met" if report["passed"] else "FAIL: missed " + ", ".join(report["missed"])
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Attune eval report {_e(report.get('created', ''))}</title><style>{_CSS}</style></head><body>"
        f"<h1>Attune evaluation report</h1><p class=\"small\">{_e(report.get('created', ''))} · backend "
        f"{_e(run.get('backend', '?'))} · suite {_e(run.get('suite', '?'))} · {m.get('scenarios_run', 0)} run, "
        f"{m.get('scenarios_skipped', 0)} skipped, {m.get('turns', 0)} turns</p>"
        f"<div class=\"banner {'pass' if report['passed'] else 'fail'}\">{_e(verdict)}</div>"
        f"{comp_html}<h2>Thresholds</h2>{_threshold_table(report)}"
        f"<h2>Charts</h2><div class=\"charts\">{charts}</div>"
        f"<h2>Other numbers</h2>{_other_metrics(report)}"
        f"<h2>Scenarios</h2>{_scenario_rows(report)}</body></html>"
    )


def write_html(report: dict[str, Any], path: Path | str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(render_html(report), encoding="utf-8")
