"""Composing a piece inside a turn: mood and goal in, files and reasons out.

The iso arc starts at the current (smoothed, rating-fused) mood and moves
toward the target: the person's stated goal, else the profile's. The
profile's music limits bound it; what the person asked to change ("no
piano", "more upbeat") and the patient's bandit choice adjust it within
those limits. A crisis session only gets calming, breathing-paced music.
"""

from __future__ import annotations

import random
import re
import uuid
from typing import Any

from .context import AppContext, SessionRef
from .learning import FAMILY_LABEL, choose, explain_learning
from .policy import SessionState

__all__ = ["compose_for_turn", "choose_instruments", "session_limits", "store_piece", "FAMILY_INSTRUMENTS"]

#: bandit instrument family -> (melody, harmony, bass) General MIDI names
FAMILY_INSTRUMENTS: dict[str, list[str]] = {
    "piano": ["piano", "electric piano", "cello"],
    "strings": ["violin", "strings", "cello"],
    "harp": ["harp", "warm pad", "cello"],
    "guitar": ["guitar", "strings", "bass"],
    "pad": ["flute", "warm pad", "cello"],
    "flute": ["flute", "harp", "cello"],
}
CRISIS_TARGET = (0.2, -0.8)


def _instruments(family: str, limits, avoid: list[str]) -> list[str] | None:
    wanted = FAMILY_INSTRUMENTS.get(family, [])
    ok = [i for i in wanted if limits.is_permitted(i) and i not in avoid]
    if len(ok) == len(wanted):
        return ok
    spare = [i for i in limits.permitted() if i not in avoid and i not in ("choir", "voice")]
    if not spare:
        return None
    return [ok[i] if i < len(ok) else spare[i % len(spare)] for i in range(3)]


def session_limits(profile, avoid_words: list[str]):
    """The profile's music limits with what the person asked to leave out forbidden; and that list."""
    from attune.tools.music.limits import instrument_names

    limits = profile.music.model_copy(deep=True)
    # "no piano" leaves out every piano (electric, bright...): match the word inside names
    avoid = sorted({name for name in instrument_names() for word in avoid_words
                    if re.search(rf"\b{re.escape(word)}\b", name)} | set(avoid_words))
    if avoid:
        limits = limits.model_copy(update={"forbidden_instruments": sorted(set(limits.forbidden_instruments) | set(avoid))})
    return limits, avoid


def choose_instruments(memory: dict, context: str, limits, avoid: list[str], seed: int) -> tuple[dict, list[str] | None]:
    """The patient's bandit choice for this context and the instruments it means within the limits."""
    families = [f for f in FAMILY_INSTRUMENTS if _instruments(f, limits, avoid)]
    choice = choose(memory, context, random.Random(seed), allowed_families=families)
    return choice, _instruments(choice["family"], limits, avoid)


def store_piece(ctx: AppContext, ref: SessionRef, plan, why: list[str], **extra: Any) -> dict[str, Any]:
    """Render ``plan`` into the patient's folder and store its record; returns the record with ``piece_id``.

    ``extra`` goes into the (encrypted) record as it is: the bandit choice, a
    parent piece, a playlist.
    """
    from attune.tools.music import write_piece

    piece_id = str(uuid.uuid4())
    out_dir = ctx.settings.pieces_dir / ref.patient_id
    files = write_piece(plan, out_dir, stem=piece_id[:8], soundfont=ctx.settings.soundfont)
    public = {"wav": str(files.wav), "ogg": str(files.ogg) if files.ogg else None, "midi": str(files.midi),
              "musicxml": str(files.musicxml), "png": str(files.png) if files.png else None}
    record = {"plan": plan.model_dump(mode="json"), "why": why, **public, "duration_s": files.duration_s,
              "seconds": files.duration_s, **extra}
    ctx.store.add_piece(ref.patient_id, ref.session_id, record, piece_id=piece_id)
    return {"piece_id": piece_id, **record}


AUDIBLE_BPM = 8.0  # the least tempo change a person hears as "faster" or "slower"


def _plan_to_prefs(plan_with, prefs, last_bpm: float | None = None):
    """Plan, then move the whole arc so its mean tempo and loudness meet the session's preferences.

    Fitting whole phrases into the requested length makes the mean tempo move in steps (a 90 s piece
    of four-beat phrases is about 75 or 86 beats a minute, little between), so the offset is measured and
    corrected up to six times and the plan closest to what was asked is kept, not the last one tried:
    "faster and livelier" from 72, aimed at 82, had ended on the 75.6 plan after trying the 86.2 one. With
    the last piece's tempo known, a plan at least ``AUDIBLE_BPM`` away from it in the asked direction wins
    over a closer one that is not, and a step short of that is pushed past ("a bit calmer and not so
    hurried" from 72 had come out at 64.5; it is 53.5 now, more than asked, as the steps allow).
    """
    from attune.tools.music import Adjust

    from .music_prefs import measures

    adjust = Adjust(register_offset=prefs.register_offset, mode=prefs.mode)
    plan = plan_with(adjust)
    if prefs.bpm is None and prefs.velocity is None:
        return plan
    best, best_miss = plan, None
    direction = 0 if (last_bpm is None or prefs.bpm is None or abs(prefs.bpm - last_bpm) < AUDIBLE_BPM) else (
        1 if prefs.bpm > last_bpm else -1)
    for attempt in range(6):
        m = measures(plan.model_dump(mode="json"))
        d_bpm = prefs.bpm - m.bpm if prefs.bpm is not None else 0.0  # beats per minute
        d_vel = prefs.velocity - m.velocity if prefs.velocity is not None else 0.0  # MIDI velocity
        heard = direction == 0 or (m.bpm - last_bpm) * direction >= AUDIBLE_BPM
        miss = (0.0 if heard else 1000.0) + abs(d_bpm) + abs(d_vel) / 2
        if best_miss is None or miss < best_miss:
            best, best_miss = plan, miss
        if (heard and abs(d_bpm) < 2 and abs(d_vel) < 2) or attempt == 5:
            break
        push = 0.0 if heard else 4.0 * direction  # stuck on the step short of an audible change: push past it
        adjust = adjust.model_copy(update={
            "bpm_offset": round(max(-80.0, min(80.0, adjust.bpm_offset + d_bpm + push)), 1),
            "velocity_offset": int(round(max(-60, min(60, adjust.velocity_offset + d_vel))))})
        plan = plan_with(adjust)
    return best


def _destination(state: SessionState, profile, prefs) -> tuple[tuple[float, float], str]:
    """Where the piece leads: calm in crisis mode, else the stated goal, else the profile's target;
    "livelier"/"calmer" nudges the destination, never the starting point (iso principle)."""
    if state.crisis_mode:
        target, words = CRISIS_TARGET, "calm and steady"
    elif state.goal:
        target, words = (state.goal[0], state.goal[1]), state.goal[2]
    else:
        target, words = (profile.target.valence, profile.target.arousal), profile.target.label
    energy = min(prefs.energy, 0) if state.crisis_mode else prefs.energy
    return (max(-1.0, min(1.0, target[0] + 0.1 * energy)), max(-1.0, min(1.0, target[1] + 0.25 * energy))), words


def _breathing(state: SessionState, profile, prefs, choice: dict, context: str) -> float | None:
    """Breaths a minute the piece is paced to, or None: always 6 in crisis mode, never when a tempo was asked."""
    if state.crisis_mode:
        return 6.0
    if prefs.bpm is not None:
        return None  # breathing pacing fixes the tempo; the person asked for a tempo of their own
    if profile.breaths_per_minute is None and choice["breathing"] == "on" and context == "calming":
        return 6.0
    return profile.breaths_per_minute


def _reasons(state: SessionState, mood: dict, plan, memory: dict, choice: dict, context: str,
             avoid: list[str], lead: str | None, passages: list[dict], toward: str | None = None) -> list[str]:
    """"Why this music": the mood it starts from, the plan's own reasons, what was learned or tried, the asks."""
    rated = any(r.get("suds") is not None or r.get("sam_valence") is not None for r in state.self_reports)
    if mood["label"] == "hard to tell":  # nothing said about how they feel yet: say so, not "feeling hard to tell"
        why = ["I could not tell yet how you are feeling, so it starts from a calm middle ground"
               + (", with your own ratings counted" if rated else "") + "."]
    else:
        why = [f"You seemed to be feeling {mood['label']}, from what you wrote over the last few messages"
               + (" and your own ratings, which count most" if rated else "") + "."]
    why += plan.explain(toward)
    learned = explain_learning(memory, context, choice["family"])
    why.append(learned or f"This time I tried {FAMILY_LABEL.get(choice['family'], choice['family'])}; "
                          "your ratings afterwards teach me what helps you.")
    if avoid:
        why.append(f"Left out, as you asked: {', '.join(avoid)}.")
    if lead:
        why.append(f"The {lead} leads, as you asked.")
    why += [f"Guidance: {p['title']} [{p['id']}] ({p['source']})." for p in passages[:2]]
    return why


def compose_for_turn(ctx: AppContext, ref: SessionRef, state: SessionState, profile, mood: dict,
                     passages: list[dict]) -> dict[str, Any]:
    """Compose, render and store the turn's piece: the mood, the goal and what the person asked for."""
    from attune.tools.music import plan_music

    from .music_prefs import MusicPrefs, measures

    prefs = MusicPrefs.model_validate(state.music_prefs or {})
    limits, avoid = session_limits(profile, sorted(set(state.avoid_instruments) | set(prefs.avoid)))
    start = (mood["valence"], mood["arousal"])
    target, target_words = _destination(state, profile, prefs)
    context = "energising" if target[1] > start[1] else "calming"
    memory = ctx.store.patient_data(ref.patient_id)
    seed = random.Random().randrange(1_000_000)
    choice, instruments = choose_instruments(memory, context, limits, avoid, seed)
    lead = next((n for n in prefs.use if limits.is_permitted(n) and n not in avoid), None)
    if lead and instruments:
        instruments = [lead] + [i for i in instruments if i != lead][:2]
    breaths = _breathing(state, profile, prefs, choice, context)
    heart = next((r.get("heart_rate") for r in reversed(state.readings)
                  if r.get("source") == "heart" and r.get("heart_rate")), None)

    def plan_with(adjust):
        return plan_music(start, target, prefs.seconds or profile.piece_seconds, limits=limits,
                          breaths_per_minute=breaths, heart_rate=heart, seed=seed, instruments=instruments,
                          adjust=adjust)

    plan = _plan_to_prefs(plan_with, prefs, ((state.last_piece or {}).get("measures") or {}).get("bpm"))
    # the destination in the words the reply used ("focused and steady" had been "bright" in the why card),
    # unless a "livelier" or "calmer" nudge moved it away from them
    toward = target_words if not prefs.energy else None
    why = _reasons(state, mood, plan, memory, choice, context, avoid, lead, passages, toward)
    sources = [{"id": p["id"], "title": p["title"], "source": p.get("source", "")} for p in passages[:2]]
    record = store_piece(ctx, ref, plan, why, choice=choice, context=context, target_words=target_words,
                         breaths_per_minute=breaths, sources=sources)
    memory.setdefault("music_history", []).append({"piece_id": record["piece_id"], "choice": choice,
                                                   "context": context})
    del memory["music_history"][:-50]
    ctx.store.set_patient_data(ref.patient_id, memory)
    return {"piece_id": record["piece_id"], **{k: record[k] for k in ("wav", "ogg", "midi", "musicxml", "png")},
            "plan": record["plan"], "why": why, "breaths_per_minute": breaths, "seconds": record["seconds"],
            "target_words": target_words, "instruments": instruments, "choice": choice,
            "end_bpm": plan.segments[-1].bpm, "measures": measures(record["plan"], record["seconds"]).model_dump()}
