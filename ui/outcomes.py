"""Outcomes for the console: per-patient trend plots, clinic aggregates, a DP research export.

A "pair" is one piece rated before and after listening (SUDS 0-10, SAM
valence and arousal 1-9). Clinic aggregates only count and average pairs,
and are withheld below ``MIN_PAIRS`` so no single patient stands out. The
research export is differentially private at the level of a patient: each
patient contributes one bounded value per statistic, noise comes from
OpenDP's Laplace mechanism, and the total epsilon is stated in the file.
What it leaves out: significance tests and per-profile breakdowns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["Pair", "pairs_from_ratings", "collect_pairs", "clinic_summary", "dp_release", "dp_csv",
           "patient_figure", "MIN_PAIRS"]

MIN_PAIRS = 5  # fewer rated pieces than this: aggregates are withheld


@dataclass(frozen=True)
class Pair:
    patient: str
    session_id: str | None
    piece_id: str | None
    at: Any
    pre: dict
    post: dict

    def delta(self, key: str) -> float | None:
        a, b = self.pre.get(key), self.post.get(key)
        return None if a is None or b is None else float(b) - float(a)

    @property
    def improved(self) -> bool | None:
        """Distress fell (SUDS), or, without SUDS, valence rose."""
        d = self.delta("suds")
        if d is not None:
            return d < 0
        v = self.delta("sam_valence")
        return None if v is None else v > 0


def pairs_from_ratings(patient: str, ratings: Iterable[dict]) -> list[Pair]:
    """Match each "post" rating to the latest "pre" rating of the same session and piece."""
    pre: dict[tuple, dict] = {}
    out = []
    for r in ratings:
        key = (r.get("session_id"), r.get("piece_id"))
        if r.get("phase") == "pre":
            pre[key] = r
        elif r.get("phase") == "post" and key in pre:
            out.append(Pair(patient, key[0], key[1], r.get("created_at"), pre.pop(key), r))
    return out


def collect_pairs(store, actor: str) -> list[Pair]:
    pairs: list[Pair] = []
    for p in store.list_patients(actor):
        pairs.extend(pairs_from_ratings(p["id"], store.ratings(p["id"], actor=actor)))
    return pairs


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def clinic_summary(pairs: list[Pair]) -> dict[str, Any]:
    """Counts and means over all rated pieces; nothing that names or singles out a patient."""
    n = len(pairs)
    if n < MIN_PAIRS:
        return {"pieces_rated": n, "withheld": True,
                "message": f"Fewer than {MIN_PAIRS} pieces have been rated before and after; "
                           "results are withheld so no one can be identified."}
    judged = [p.improved for p in pairs if p.improved is not None]
    suds = [d for d in (p.delta("suds") for p in pairs) if d is not None]
    val = [d for d in (p.delta("sam_valence") for p in pairs) if d is not None]
    aro = [d for d in (p.delta("sam_arousal") for p in pairs) if d is not None]
    return {
        "pieces_rated": n,
        "withheld": False,
        "improved": sum(judged),
        "improved_share": (sum(judged) / len(judged)) if judged else None,
        "suds_fell": sum(1 for d in suds if d < 0),
        "mean_suds_change": _mean(suds),
        "mean_valence_change": _mean(val),
        "mean_arousal_change": _mean(aro),
    }


# Bounds of one patient's contribution (their mean change per rated piece).
_BOUNDS = {"improved_share": (0.0, 1.0), "suds_change": (-10.0, 10.0),
           "valence_change": (-8.0, 8.0), "arousal_change": (-8.0, 8.0)}


def _per_patient(pairs: list[Pair]) -> dict[str, list[float]]:
    by: dict[str, list[Pair]] = {}
    for p in pairs:
        by.setdefault(p.patient, []).append(p)
    cols: dict[str, list[float]] = {k: [] for k in _BOUNDS}
    for ps in by.values():
        judged = [p.improved for p in ps if p.improved is not None]
        if judged:
            cols["improved_share"].append(sum(judged) / len(judged))
        for name, key in (("suds_change", "suds"), ("valence_change", "sam_valence"),
                          ("arousal_change", "sam_arousal")):
            ds = [d for d in (p.delta(key) for p in ps) if d is not None]
            if ds:
                cols[name].append(sum(ds) / len(ds))
    return cols


def dp_release(pairs: list[Pair], epsilon: float = 1.0) -> dict[str, Any]:
    """A differentially private summary (patient-level, pure epsilon-DP, Laplace noise via OpenDP).

    The budget is split evenly: for each of the four statistics a noisy count
    of contributing patients and a noisy clamped sum (mean = sum / count).
    """
    import opendp.prelude as dp

    if not 0 < epsilon <= 10:
        raise ValueError("epsilon must be in (0, 10]")
    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance()
    cols = _per_patient(pairs)
    per_query = epsilon / (2 * len(cols))
    rows = []
    for name, values in cols.items():
        lo, hi = _BOUNDS[name]
        count = dp.binary_search_chain(lambda s: space >> dp.t.then_count() >> dp.m.then_laplace(scale=s),
                                       d_in=1, d_out=per_query)
        total = dp.binary_search_chain(
            lambda s: space >> dp.t.then_clamp((lo, hi)) >> dp.t.then_sum() >> dp.m.then_laplace(scale=s),
            d_in=1, d_out=per_query)
        noisy_n = max(int(count(values)), 0)
        noisy_sum = float(total(values))
        mean = min(max(noisy_sum / noisy_n, lo), hi) if noisy_n > 0 else None
        rows.append({"statistic": name, "noisy_patients": noisy_n, "noisy_mean": mean,
                     "bounds": [lo, hi], "epsilon": 2 * per_query})
    return {
        "mechanism": "Laplace (OpenDP 0.16), pure epsilon-differential privacy",
        "unit_of_privacy": "one patient (each contributes one bounded mean per statistic)",
        "epsilon_total": epsilon,
        "epsilon_per_statistic": 2 * per_query,
        "statistics": rows,
        "note": "Values are noisy by design; small clinics get wide errors. Means are clamped to their bounds.",
    }


def dp_csv(release: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["# " + release["mechanism"] + f"; epsilon_total={release['epsilon_total']}; "
                + "unit=" + release["unit_of_privacy"]])
    w.writerow(["statistic", "noisy_patients", "noisy_mean", "lower_bound", "upper_bound", "epsilon"])
    for r in release["statistics"]:
        w.writerow([r["statistic"], r["noisy_patients"],
                    "" if r["noisy_mean"] is None else f"{r['noisy_mean']:.4f}",
                    r["bounds"][0], r["bounds"][1], f"{r['epsilon']:.4f}"])
    return buf.getvalue()


def patient_figure(moods: list[dict], pairs: list[Pair]):
    """Two panels: self-ratings before and after each piece, and inferred mood across sessions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.4), constrained_layout=True)
    if pairs:
        xs = list(range(1, len(pairs) + 1))
        for key, label, colour in (("suds", "SUDS distress (0-10)", "#b3261e"),
                                   ("sam_valence", "SAM valence (1-9)", "#1d5fa8"),
                                   ("sam_arousal", "SAM arousal (1-9)", "#6b4f00")):
            pre = [p.pre.get(key) for p in pairs]
            post = [p.post.get(key) for p in pairs]
            if all(v is None for v in pre + post):
                continue
            for x, a, b in zip(xs, pre, post):
                if a is not None and b is not None:
                    ax1.annotate("", xy=(x + 0.15, b), xytext=(x - 0.15, a),
                                 arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.6})
            ax1.scatter([x - 0.15 for x in xs], [v if v is not None else float("nan") for v in pre],
                        color=colour, marker="o", facecolors="none", label=f"{label}: before")
            ax1.scatter([x + 0.15 for x in xs], [v if v is not None else float("nan") for v in post],
                        color=colour, marker="o", label=f"{label}: after")
        ax1.set_xticks(xs)
        ax1.set_xticklabels([f"{i}\n{str(p.at)[:10]}" for i, p in zip(xs, pairs)], fontsize=8)
        ax1.set_ylim(-0.5, 10.5)
        ax1.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    else:
        ax1.text(0.5, 0.5, "No piece rated before and after yet", ha="center", va="center")
    ax1.set_title("Before and after each piece (arrow: before to after)")
    ax1.set_xlabel("Rated piece (date)")

    points = [(m.get("created_at"), m.get("valence"), m.get("arousal"), m.get("session_id"))
              for m in moods if m.get("valence") is not None]
    if points:
        sessions = list(dict.fromkeys(p[3] for p in points))
        xs = list(range(1, len(points) + 1))
        ax2.plot(xs, [p[1] for p in points], "-o", color="#1d5fa8", label="valence")
        ax2.plot(xs, [p[2] for p in points], "-s", color="#6b4f00", label="arousal")
        for i, (prev, cur) in enumerate(zip(points, points[1:]), start=1):
            if prev[3] != cur[3]:
                ax2.axvline(i + 0.5, color="#888", lw=0.8, ls="--")
        ax2.set_ylim(-1.05, 1.05)
        ax2.legend(fontsize=8)
        ax2.set_title(f"Inferred mood across {len(sessions)} session(s) (dashed line: new session)")
    else:
        ax2.text(0.5, 0.5, "No mood readings yet", ha="center", va="center")
        ax2.set_title("Inferred mood across sessions")
    ax2.set_xlabel("Reading")
    ax2.set_ylabel("-1 to 1")
    return fig
