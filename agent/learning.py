"""Learning what works for one patient: a contextual Thompson-sampling bandit.

Each music choice has a few dimensions (instrument family, tempo offset,
texture, breathing pacing). Per patient and per context (calming or
energising arc) every option keeps a Beta(successes + 1, failures + 1)
belief; a piece samples one value per option and takes the best in each
dimension. The reward is the change the person reported after listening
(SUDS down, SAM valence up) plus how much they liked it, in [0, 1]. The
beliefs live in the patient's encrypted record, so they follow the patient
across sessions and never mix between patients.
"""

from __future__ import annotations

import random
from typing import Any

from .context import AppContext, SessionRef

__all__ = ["ARMS", "choose", "update", "measured_change", "reward_from", "rating_before", "record_outcome",
           "explain_learning"]

ARMS: dict[str, list[str]] = {
    "family": ["piano", "strings", "harp", "guitar", "pad", "flute"],
    "tempo_offset": ["-6", "0", "+6"],  # beats per minute added to the planned tempo
    "texture": ["pad", "arpeggio", "block"],
    "breathing": ["on", "off"],
}
FAMILY_LABEL = {"piano": "piano", "strings": "strings", "harp": "harp", "guitar": "guitar",
                "pad": "soft synth pads", "flute": "flute"}


def _beliefs(memory: dict, context: str) -> dict[str, dict[str, list[float]]]:
    table = memory.setdefault("bandit", {}).setdefault(context, {})
    for dim, options in ARMS.items():
        slot = table.setdefault(dim, {})
        for opt in options:
            slot.setdefault(opt, [1.0, 1.0])
    return table


def choose(memory: dict, context: str, rng: random.Random, allowed_families: list[str] | None = None) -> dict[str, str]:
    """Sample one option per dimension (Thompson sampling)."""
    table = _beliefs(memory, context)
    choice = {}
    for dim, options in ARMS.items():
        candidates = [o for o in options if dim != "family" or not allowed_families or o in allowed_families]
        candidates = candidates or options
        choice[dim] = max(candidates, key=lambda o: rng.betavariate(*table[dim][o]))
    return choice


def update(memory: dict, context: str, choice: dict[str, str], reward: float) -> None:
    table = _beliefs(memory, context)
    for dim, opt in choice.items():
        if dim in table and opt in table[dim]:
            table[dim][opt][0] += reward
            table[dim][opt][1] += 1.0 - reward


def measured_change(pre: dict, post: dict) -> float | None:
    """-1..+1 from the change between a before and an after rating (SUDS down, SAM valence up).

    None without a before rating: an after rating alone says how the person
    feels, not that the piece changed it, so it is never counted as help.
    """
    parts = []
    if pre.get("suds") is not None and post.get("suds") is not None:
        parts.append(max(-1.0, min(1.0, (pre["suds"] - post["suds"]) / 4.0)))  # 4 SUDS points = full credit
    if pre.get("sam_valence") is not None and post.get("sam_valence") is not None:
        parts.append(max(-1.0, min(1.0, (post["sam_valence"] - pre["sam_valence"]) / 3.0)))
    return round(sum(parts) / len(parts), 3) if parts else None


def reward_from(pre: dict, post: dict) -> float | None:
    """0..1 for the bandit: the measured change and how much the person liked the piece (1-5 around 3)."""
    parts = []
    change = measured_change(pre, post)
    if change is not None:
        parts.append(change)
    if post.get("liking") is not None:
        parts.append((post["liking"] - 3.0) / 2.0)
    if not parts:
        return None
    return round(0.5 + 0.5 * sum(parts) / len(parts), 3)


def explain_learning(memory: dict, context: str, family: str | None = None) -> str | None:
    """A plain sentence on what has helped, once there is evidence, and only about this piece's family.

    The sentence is a reason for *this* piece, so it is said only when the
    family chosen for it is the one that has helped most ("Harp has helped
    you most" under a violin piece would be untrue).
    """
    table = memory.get("bandit", {}).get(context, {}).get("family", {})
    rated = {k: v for k, v in table.items() if v[0] + v[1] > 2.5}
    if not rated:
        return None
    best, (a, b) = max(rated.items(), key=lambda kv: kv[1][0] / (kv[1][0] + kv[1][1]))
    n = round(a + b - 2)
    if a / (a + b) <= 0.5 or (family is not None and family != best):
        return None
    return (f"{FAMILY_LABEL.get(best, best).capitalize()} has helped you most so far "
            f"(from {n} rated piece{'s' if n != 1 else ''}), so I leaned toward it.")


def rating_before(ratings: list[dict], piece_id: str | None) -> dict | None:
    """The latest 'pre' rating of this piece (or of no piece in particular) among a session's ratings."""
    return next((r for r in reversed(ratings) if r["phase"] == "pre" and r.get("piece_id") in (piece_id, None)), None)


def record_outcome(ctx: AppContext, ref: SessionRef, phase: str, rating: dict, piece_id: str | None,
                   ratings: list[dict] | None = None) -> dict[str, Any] | None:
    """After a 'post' rating, reward the choices behind the piece it follows (``ratings``: the session's,
    when the caller has read them already)."""
    if phase != "post" or not piece_id:
        return None
    if ratings is None:
        ratings = ctx.store.ratings(ref.patient_id, ref.session_id)
    pre = rating_before(ratings, piece_id)
    piece = next((p for p in ctx.store.pieces(ref.patient_id) if p["id"] == piece_id), None)
    if piece is None or not piece.get("choice"):
        return None
    reward = reward_from(pre or {}, rating)
    if reward is None:
        return None
    memory = ctx.store.patient_data(ref.patient_id)
    update(memory, piece.get("context", "calming"), piece["choice"], reward)
    helped = memory.setdefault("helped", [])
    helped.append({"piece_id": piece_id, "reward": reward, "choice": piece["choice"]})
    del helped[:-50]
    ctx.store.set_patient_data(ref.patient_id, memory)
    return {"reward": reward, "choice": piece["choice"]}
