"""Heart rate and heart-rate variability as arousal evidence.

Inputs: a manual pulse (beats per minute), or a CSV export of RR intervals or
of a heart-rate series. Accepted shapes (comma, semicolon or tab separated,
with or without a header; a semicolon file may use decimal commas):

* one column of RR intervals, in milliseconds or seconds (detected from the
  median: 250-2400 means ms, 0.25-2.4 means s);
* one column of heart rate in beats per minute (median 25-240, no header);
* `time,rr` / `timestamp,hr` / `Time,HR (bpm)` style exports: a column whose
  header names RR/IBI/interval is read as RR, one naming HR/BPM/pulse as
  heart rate; without a header the last column is the value.

RR series: missing cells and beats outside 250-2400 ms or more than 25 % off
the median of their neighbours are artefacts; each is replaced by that local
median before RMSSD. More than 20 % artefacts or gaps, or fewer than 20
beats, is an InputError (record again sitting still). Heart rate and RMSSD
come from neurokit2 (`hrv_time` on peaks rebuilt from the RR series).

Not done: frequency-domain HRV, respiration, motion artefacts beyond the
rules above. A raised heart rate can also mean movement, caffeine or fever;
the evidence says so.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Optional

import numpy as np
from pydantic import BaseModel, Field

from attune.common.errors import InputError

from .model import Baseline, Evidence, clip

__all__ = [
    "HeartReading",
    "check_bpm",
    "read_heart_file",
    "reading_from_rr",
    "rmssd_from_rr",
    "heart_arousal",
    "BPM_RANGE",
    "POPULATION",
]

BPM_RANGE = (25.0, 240.0)  # beats per minute accepted anywhere
RR_RANGE_MS = (250.0, 2400.0)  # milliseconds, i.e. 240-25 beats per minute
MAX_BAD_SHARE = 0.20  # artefacts + gaps allowed before the series is refused
MIN_BEATS = 20
# Adult population references used when no personal baseline is given
# (typical seated resting values; wide spread between people, hence lower weight).
POPULATION = {"resting_hr": 70.0, "rmssd": 40.0}  # beats per minute, milliseconds
HR_SCALE = 25.0  # beats per minute above rest that count as arousal +1 (baseline)
HR_SCALE_POPULATION = 35.0  # wider: we do not know this person's rest


class HeartReading(BaseModel):
    """What was measured: mean heart rate (beats per minute), RMSSD (ms) if RR was given."""

    hr: float = Field(ge=BPM_RANGE[0], le=BPM_RANGE[1])
    rmssd: Optional[float] = Field(None, ge=0)
    source: str  # "manual", "rr", "hr_series"
    beats: int = 0  # RR intervals or HR samples used
    corrected: int = 0  # artefacts or gaps replaced


def check_bpm(bpm: float) -> float:
    """Validate a manual pulse; InputError names the accepted range."""
    try:
        value = float(bpm)
    except (TypeError, ValueError):
        raise InputError(f"Heart rate must be a number of beats per minute between 25 and 240, not {bpm!r}.") from None
    if not math.isfinite(value) or not BPM_RANGE[0] <= value <= BPM_RANGE[1]:
        raise InputError(f"Heart rate {bpm} is outside 25-240 beats per minute; please check the reading.")
    return value


def rmssd_from_rr(rr_ms: np.ndarray) -> tuple[float, float]:
    """(mean heart rate in beats per minute, RMSSD in ms) of a clean RR series in ms, via neurokit2."""
    import neurokit2 as nk

    rr = np.asarray(rr_ms, dtype=float)
    peaks = np.concatenate([[0], np.round(np.cumsum(rr)).astype(int)])  # sample index at 1000 Hz = ms
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = nk.hrv_time(peaks, sampling_rate=1000, show=False)
    mean_nn = float(out["HRV_MeanNN"].iloc[0])
    return 60000.0 / mean_nn, float(out["HRV_RMSSD"].iloc[0])


def _clean_rr(rr: list[Optional[float]]) -> tuple[np.ndarray, int]:
    """Replace gaps and artefacts by the median of up to 5 neighbours on each side; return (rr, count)."""
    x = np.array([np.nan if v is None else v for v in rr], dtype=float)
    bad = ~np.isfinite(x) | (x < RR_RANGE_MS[0]) | (x > RR_RANGE_MS[1])
    good = np.where(bad, np.nan, x)
    for i in range(len(x)):
        if bad[i]:
            continue
        window = np.concatenate([good[max(0, i - 5):i], good[i + 1:i + 6]])
        window = window[np.isfinite(window)]
        if len(window) >= 3 and abs(x[i] - np.median(window)) > 0.25 * np.median(window):
            bad[i] = True
    fixed = x.copy()
    clean = np.where(bad, np.nan, x)
    for i in np.where(bad)[0]:
        window = np.concatenate([clean[max(0, i - 5):i], clean[i + 1:i + 6]])
        window = window[np.isfinite(window)]
        fixed[i] = np.median(window) if len(window) else np.nan
    return fixed, int(bad.sum())


def reading_from_rr(rr_ms: list[Optional[float]]) -> HeartReading:
    """Clean an RR series (ms; None marks a gap) and measure it; InputError if too short or too broken."""
    n = len(rr_ms)
    if n < MIN_BEATS:
        raise InputError(f"Only {n} RR intervals: at least {MIN_BEATS} (about 20 seconds) are needed.")
    fixed, n_bad = _clean_rr(rr_ms)
    if n_bad > MAX_BAD_SHARE * n or not np.all(np.isfinite(fixed)):
        raise InputError(
            f"{n_bad} of {n} RR intervals are gaps or artefacts (more than {MAX_BAD_SHARE:.0%}): "
            "please record again sitting still with the strap moistened."
        )
    hr, rmssd = rmssd_from_rr(fixed)
    return HeartReading(hr=hr, rmssd=rmssd, source="rr", beats=n, corrected=n_bad)


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_RR_NAME = re.compile(r"(^|[^a-z])(rr|rri|ibi|nn)([^a-z]|$)|interval", re.I)
_HR_NAME = re.compile(r"(^|[^a-z])(hr)([^a-z]|$)|bpm|heart|pulse", re.I)


def _cells(line: str, sep: Optional[str]) -> list[str]:
    return [c.strip().strip('"').strip() for c in (line.split(sep) if sep else line.split())]


def _number(cell: str, decimal_comma: bool) -> Optional[float]:
    """A float, None for an empty cell or an explicit missing marker; raises ValueError for junk."""
    if cell == "" or cell.lower() in {"nan", "na", "n/a", "-", "null", "none"}:
        return None
    if decimal_comma:
        cell = cell.replace(",", ".")
    if not _NUMBER.match(cell):
        raise ValueError(cell)
    return float(cell)


def read_heart_file(path: str | Path) -> HeartReading:
    """Read an RR or heart-rate CSV export and measure it (see the module docstring for shapes)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise InputError(f"Cannot read the heart file {str(p)!r}: {err.strerror or err}.") from None
    if b"\x00" in raw[:4096]:
        raise InputError(f"{p.name} is not a text CSV file (it looks binary).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    # blank lines inside the data are gaps (a one-column export writes nothing for a lost beat)
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise InputError(f"{p.name} is empty.")
    sample = next((ln for ln in lines[1:] if ln.strip()), lines[0])
    sep = ";" if ";" in sample else "\t" if "\t" in sample else "," if "," in sample else None
    decimal_comma = sep in (";", "\t", None)
    first = _cells(lines[0], sep)
    has_header = any(re.search(r"[A-Za-z]", c) and not re.match(r"^\d", c) for c in first)
    header = first if has_header else []
    rows = [_cells(ln, sep) if ln.strip() else [""] for ln in (lines[1:] if has_header else lines)]
    width = max(len(r) for r in rows) if rows else 0
    if not rows:
        raise InputError(f"{p.name} has a header but no readings.")

    kind: Optional[str] = None  # "rr" or "hr"
    col = width - 1
    for i, name in enumerate(header):
        if _RR_NAME.search(name):
            kind, col = "rr", i
            break
    else:
        for i, name in enumerate(header):
            if _HR_NAME.search(name):
                kind, col = "hr", i
                break
    if header and kind is None:
        raise InputError(
            f"{p.name}: no column named like RR/IBI (intervals) or HR/BPM (heart rate) in header {header}."
        )

    values: list[Optional[float]] = []
    junk = 0
    for r in rows:
        cell = r[col] if col < len(r) else ""
        try:
            values.append(_number(cell, decimal_comma))
        except ValueError:
            junk += 1
            values.append(None)
    numbers = np.array([v for v in values if v is not None], dtype=float)
    if junk > MAX_BAD_SHARE * len(rows) or len(numbers) == 0:
        raise InputError(
            f"{p.name}: {junk} of {len(rows)} readings are not numbers; expected RR intervals or heart rate."
        )
    median = float(np.median(numbers))

    if kind is None:  # no header: decide from the numbers
        if RR_RANGE_MS[0] <= median <= RR_RANGE_MS[1] or RR_RANGE_MS[0] / 1000 <= median <= RR_RANGE_MS[1] / 1000:
            kind = "rr"
        elif BPM_RANGE[0] <= median <= BPM_RANGE[1]:
            kind = "hr"
        else:
            raise InputError(
                f"{p.name}: values around {median:g} are neither RR intervals (250-2400 ms or 0.25-2.4 s) "
                "nor heart rate (25-240 beats per minute)."
            )

    if kind == "rr":
        if RR_RANGE_MS[0] / 1000 <= median <= RR_RANGE_MS[1] / 1000:
            values = [None if v is None else v * 1000.0 for v in values]  # seconds -> ms
        elif not RR_RANGE_MS[0] <= median <= RR_RANGE_MS[1]:
            hint = " They look like beats per minute." if BPM_RANGE[0] <= median <= BPM_RANGE[1] else ""
            raise InputError(
                f"{p.name}: RR intervals around {median:g} are in unknown units; expected milliseconds "
                f"(250-2400) or seconds (0.25-2.4).{hint}"
            )
        return reading_from_rr(values)

    # heart-rate series: one value per sample; no beat-to-beat detail, so no RMSSD
    if not BPM_RANGE[0] <= median <= BPM_RANGE[1]:
        raise InputError(f"{p.name}: heart rate around {median:g} is outside 25-240 beats per minute.")
    bad = [v is None or not BPM_RANGE[0] <= v <= BPM_RANGE[1] for v in values]
    if sum(bad) > MAX_BAD_SHARE * len(values):
        raise InputError(
            f"{p.name}: {sum(bad)} of {len(values)} heart-rate samples are missing or outside 25-240 "
            "beats per minute; please record again."
        )
    good = [v for v, b in zip(values, bad) if not b]
    if len(good) < 3:
        raise InputError(f"{p.name}: at least 3 heart-rate samples are needed.")
    return HeartReading(hr=float(np.mean(good)), source="hr_series", beats=len(good), corrected=sum(bad))


def heart_arousal(reading: HeartReading, baseline: Optional[Baseline] = None) -> tuple[float, bool, list[Evidence]]:
    """(arousal in [-1, 1], personal baseline used?, evidence) from a reading.

    Heart rate: (hr - rest) / 25 bpm with a personal resting HR, / 35 bpm against
    the population 70 bpm. RMSSD: -0.7 * log2(rmssd / reference), so half the
    reference RMSSD reads as +0.7 (less vagal tone, more activation).
    Heart rate and RMSSD count equally when both exist.
    """
    personal_hr = baseline is not None and baseline.resting_hr is not None
    personal_rmssd = baseline is not None and baseline.rmssd is not None
    rest = baseline.resting_hr if personal_hr else POPULATION["resting_hr"]
    scale = HR_SCALE if personal_hr else HR_SCALE_POPULATION
    hr_a = clip((reading.hr - rest) / scale)
    parts = [hr_a]
    ref_name = "your resting" if personal_hr else "a typical resting"
    evidence = [Evidence(
        source="heart",
        detail=(
            f"heart rate {reading.hr:.0f} bpm vs {ref_name} {rest:.0f} bpm"
            + (f" ({reading.source}, {reading.corrected} of {reading.beats} corrected)" if reading.corrected else "")
            + "; movement, caffeine or fever also raise it"
        ),
        arousal_delta=round(hr_a, 3),
        value=round(reading.hr, 1),
        weight=1.0 if personal_hr else 0.5,
    )]
    if reading.rmssd is not None and reading.rmssd > 0:
        ref = baseline.rmssd if personal_rmssd else POPULATION["rmssd"]
        r_a = clip(-0.7 * math.log2(reading.rmssd / ref))
        parts.append(r_a)
        evidence.append(Evidence(
            source="heart",
            detail=f"RMSSD {reading.rmssd:.1f} ms vs {'your' if personal_rmssd else 'a typical'} {ref:.0f} ms",
            arousal_delta=round(r_a, 3),
            value=round(reading.rmssd, 2),
            weight=1.0 if personal_rmssd else 0.5,
        ))
    personal = personal_hr or personal_rmssd
    return clip(sum(parts) / len(parts)), personal, evidence
