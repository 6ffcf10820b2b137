"""One patient turn as a generator of typed events (DESIGN.md, "One patient turn").

    message -> screen (whole conversation) -> crisis or block? code replies, no model
            -> mood (text, fresh ratings, heart readings) -> retrieve guidance
            -> policy picks the step -> compose music when due
            -> the model writes the reflective part, code frames and checks it
            -> output screen -> store (encrypted) -> TurnDone

Code decides safety and which tool runs; the model only chooses words for
reflections, and every model sentence passes the output screen before it is
shown. Two kinds of failure (STYLE.md 7): a model that writes something
unusable gets a code-written fallback; bad input and configuration raise.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from .context import AppContext, SessionRef
from .errors import BackendUnreachable, InputError
from .events import (Event, MoodInferred, Notice, OutputChecked, PassagesRetrieved, Reply, ReplyDelta, Screened,
                     StepChosen, ToolCalled, ToolResult, TurnDone, TurnStarted)
from .intents import read_intent, state_words
from .music_step import compose_for_turn
from .policy import SessionState, decide
from .reply import (affirmation, because_clause, build_messages, fallback_reflection, finish_reflection, grounded,
                    open_question)
from .text import clean_message

__all__ = ["run_turn", "collect", "SYSTEM_TEMPLATE"]

SYSTEM_TEMPLATE = ("You are {name}, a {tone} AI companion for music and relaxation, not a therapist. "
                   "Reply with one short sentence that reflects the feeling and meaning of what the person "
                   "said, in your own words. Never give medical advice. [{canary}]")
HISTORY_TURNS = 4


def _now() -> datetime:
    return datetime.now(timezone.utc)


# How long a stored reading still speaks for the present (minutes): faces change fastest.
FRESH_MINUTES = {"voice": 30, "face": 10, "eeg": 10}


def _sensed(state: SessionState) -> list[tuple[str, Any]]:
    """The newest fresh voice, face and EEG readings as (fusion source, estimate) pairs.

    Only numbers were stored; a sensor that was refused, absent or failing left
    nothing here, so the turn goes on with whatever else there is.
    """
    from attune.tools.mood.model import Evidence, MoodEstimate, emotions_from_va

    out, seen = [], set()
    for r in reversed(state.readings):
        kind = r.get("source")
        if kind not in FRESH_MINUTES or kind in seen or r.get("confidence") is None:
            continue
        seen.add(kind)
        if _now() - datetime.fromisoformat(r["at"]) > timedelta(minutes=FRESH_MINUTES[kind]):
            continue
        v, a = float(r["valence"]), float(r["arousal"])
        out.append((r.get("fusion_source") or kind, MoodEstimate(
            valence=v, arousal=a, emotions=emotions_from_va(v, a, 2.0), confidence=float(r["confidence"]),
            evidence=[Evidence(source=kind, detail=d) for d in r.get("evidence", [])[:2]])))
    return out


def _mood(ctx: AppContext, state: SessionState, text: str) -> dict[str, Any]:
    """Infer from the text, let a fresh self-rating dominate, smooth across turns."""
    from attune.tools.mood import MoodTrack, SelfReport, fuse, infer

    report = None
    for r in reversed(state.self_reports):
        values = {k: r.get(k) for k in ("sam_valence", "sam_arousal", "suds") if r.get(k) is not None}
        if values:
            report = SelfReport(**{k: round(v) for k, v in values.items()},
                                at=datetime.fromisoformat(r["at"]))
            break
    heart = None
    for r in reversed(state.readings):
        at = datetime.fromisoformat(r["at"])
        if r.get("source") == "heart" and _now() - at < timedelta(minutes=30):
            heart = r.get("heart_rate") or r.get("hr")
            break

    estimate = infer(text=state_words(text), heart_rate=heart, estimates=_sensed(state))
    track = MoodTrack.from_dict(state.mood_track) if state.mood_track else MoodTrack()
    jump = track.update(estimate)
    state.mood_track = track.to_dict()
    current = fuse(track.current(), report)
    evidence = [e.detail for e in estimate.evidence[:4]] + [e.detail for e in current.evidence[:2]]
    return {"valence": round(current.valence, 3), "arousal": round(current.arousal, 3),
            "label": current.label(), "confidence": round(current.confidence, 3),
            "emotions": {k: round(v, 3) for k, v in current.top(3)}, "evidence": evidence,
            "jump": jump.model_dump(mode="json") if jump else None,
            "text_valence": round(estimate.valence, 3), "text_confidence": round(estimate.confidence, 3)}


def _retrieve(ctx: AppContext, text: str, mood: dict, step: str, goal_words: str | None) -> list[dict]:
    if step in {"crisis", "block"}:
        return []
    if step == "why":
        query = f"why this music: iso principle, tempo and mode for feeling {goal_words or mood['label']}"
    elif step == "compose":
        query = f"music to feel {goal_words or 'calmer'} when feeling {mood['label']}"
    else:
        query = f"{text[:300]} feeling {mood['label']}" + (f" goal {goal_words}" if goal_words else "")
    try:
        passages = ctx.retriever.search(query, k=3)
    except InputError:
        return []
    return [p.model_dump(mode="json") if hasattr(p, "model_dump") else dict(p) for p in passages]


def _source_brief(p: dict) -> dict:
    return {"id": p["id"], "title": p["title"], "source": p.get("source", ""), "text": p["text"],
            "score": p.get("score")}


_BLOCK_TEXT = {
    "method_request": "I can't help with that. If part of you is thinking about harming yourself, "
                      "please tell me, or reach a crisis line now; you deserve support from a person.",
    "medication_request": "I can't advise on medicines or doses: please ask your doctor or pharmacist, "
                          "who know your situation. I'm glad to keep you company with music meanwhile.",
    "diagnosis_request": "I can't diagnose anything: I'm an AI companion for music and relaxation. A doctor "
                         "or mental-health professional can help you make sense of what you're noticing.",
    "prompt_injection": "I'll stay as I am: an AI companion for music and relaxation, with the same "
                        "safety rules. I'm happy to talk about how you're feeling or make some music.",
    "out_of_scope": "That's outside what I can help with here: I'm a companion for music and relaxation. "
                    "Would you like to talk about how you're feeling, or hear some music?",
}


def _block_reply(categories: list[str]) -> str:
    for cat in ("method_request", "medication_request", "diagnosis_request", "prompt_injection", "out_of_scope"):
        if cat in categories:
            return _BLOCK_TEXT[cat]
    return _BLOCK_TEXT["out_of_scope"]


def _reflect(ctx: AppContext, state: SessionState, profile, history: list[dict], text: str,
             mood: dict, passages: list[dict]) -> Iterator[Event | tuple[str, bool]]:
    """Stream a one-sentence reflection; the last item is (sentence, used_fallback).

    Two frames alternate. A simple reflection: code starts "It sounds like
    you're feeling <feeling>" and the model finishes the sentence. A complex
    reflection links the feeling to the reason the person gave, in their own
    words ("..., maybe because your rent is due"): code writes it, since the
    small model invents reasons (measured: about half of its reasons were not
    in what the person said). A model sentence that offers its own reason
    must still be grounded in the conversation, or it is not shown.
    """
    label = mood["label"]
    feeling = label if mood["confidence"] >= 0.2 and label not in {"neutral", "okay"} else None
    opening = f"It sounds like you're feeling {feeling}" if feeling else "It sounds like"
    recent = " ".join([h["content"] for h in history if h["role"] == "user"][-3:] + [text])
    # odd turns (the check-in among them) link the feeling to the person's own reason
    reason = because_clause(state_words(text)) if feeling and state.turns % 2 == 1 else None
    text_v, fused_v = mood.get("text_valence", 0.0), mood["valence"]
    if reason and abs(text_v) > 0.2 and (text_v > 0) != (fused_v > 0):
        reason = None  # their words and the (rating-led) feeling disagree: do not tie them together
    if reason and (re.search(r"\b(feel|feeling|felt)\b", reason)
                   or any(w in reason.lower().split() for w in re.findall(r"[a-z]{4,}", (feeling or "").lower()))):
        reason = None  # "feeling X because you feel Y" says nothing; the model reflects instead
    if reason:
        state.code_worded += 1
        sentence = f"{opening}, maybe because {reason}."
        yield ReplyDelta(sentence)
        yield (sentence, False)
        return
    system = SYSTEM_TEMPLATE.format(name=profile.persona.name, tone=profile.persona.tone, canary=ctx.canary)
    earlier = [h["content"] for h in history if h["role"] == "user"][-2:]
    summary = (state.summary + " " if state.summary else "") + (
        "They said earlier: " + " / ".join(e[:200] for e in earlier) if earlier else "")
    messages = build_messages(system, [], text, summary=summary.strip())
    yield ReplyDelta(opening)
    parts: list[str] = []
    try:
        for piece in ctx.backend.stream(messages, prefill=opening, max_new_tokens=40,
                                        stop=["\n", ". ", "? ", "! ", ", but"]):
            parts.append(piece)
    except BackendUnreachable as exc:
        yield Notice(str(exc))
    continuation = "".join(parts)
    sentence = finish_reflection(opening, continuation, allow_empty=feeling is not None)
    if sentence and "because" in continuation.lower():
        own_reason = continuation.lower().split("because", 1)[1]
        if not grounded(own_reason, recent):
            sentence = finish_reflection(opening, continuation.lower().split(", maybe because")[0].split(" because")[0],
                                         allow_empty=feeling is not None)
            sentence = sentence if sentence and "because" not in sentence else None
    problems: list[str] = []
    if sentence:
        verdict = ctx.output_guard.screen(sentence, canary=ctx.canary,
                                          allowed_source_ids={p["id"] for p in passages})
        problems = list(verdict.problems)
        yield OutputChecked(ok=verdict.ok, problems=problems)
        if not verdict.ok:
            sentence = None
    if sentence is None:
        fb = fallback_reflection(text, feeling or "this way", state.turns)
        if not fb.startswith(opening):
            fb = f"{opening}, {fb[0].lower()}{fb[1:]}" if feeling is None else fb
        yield ReplyDelta(fb[len(opening):] if fb.startswith(opening) else " " + fb)
        yield (fb, True)
        return
    yield ReplyDelta(sentence[len(opening):])
    yield (sentence, False)


def _consent_question() -> str:
    return ("Is it okay if I keep notes of our conversation, encrypted, so we can pick up next time? "
            "You can say no.")


def _close_text(state: SessionState, mood: dict, resources_line: str) -> str:
    pieces = f"we listened to {state.pieces} piece{'s' if state.pieces != 1 else ''}" if state.pieces else \
        "we talked without music this time"
    suds = [r.get("suds") for r in state.self_reports if r.get("suds") is not None]
    change = f", and your distress rating went from {suds[0]:g} to {suds[-1]:g}" if len(suds) >= 2 else ""
    return (f"Thank you for spending this time with me. Today {pieces}{change}; you seem to be feeling "
            f"{mood['label']} now. Something to try before next time: a few minutes of slow breathing with "
            f"a calm piece, at a comfortable volume. {resources_line} Take care of yourself.")


def run_turn(ctx: AppContext, ref: SessionRef, message: str) -> Iterator[Event]:
    started = time.perf_counter()
    limit = ctx.settings.max_message_chars
    text = clean_message(message, max_chars=max(limit, len(message or "")))  # length is checked after screening
    session = ctx.store.session(ref.session_id, ref.patient_id)
    state = SessionState.model_validate(session["state"] or {})
    profile = ctx.profile(session["profile"])
    history = [{"role": "user" if t["role"] == "patient" else "assistant", "content": t["content"]}
               for t in ctx.store.turns(ref.session_id, ref.patient_id)]
    earlier = [h["content"] for h in history if h["role"] == "user"]
    state.turns += 1
    state.started_at = state.started_at or _now().isoformat()
    yield TurnStarted(session_id=ref.session_id, turn=state.turns)

    # 1. Safety first: the whole message, read with the conversation so far.
    verdict = ctx.input_guard.screen(text, earlier[-12:])
    yield Screened(action=verdict.action, categories=list(verdict.categories), score=round(verdict.score, 3))
    if len(text) > limit and verdict.action != "crisis":
        raise InputError(f"The message is {len(text):,} characters long; the limit is {limit:,}. "
                         "Please send a shorter message (nothing was stored).")
    ctx.store.append_turn(ref.session_id, ref.patient_id, "patient", text,
                          {"action": verdict.action, "categories": list(verdict.categories)})
    ctx.store.append_event(ref.session_id, ref.patient_id, "Screened",
                           {"action": verdict.action, "categories": list(verdict.categories),
                            "score": verdict.score, "reasons": list(verdict.reasons)[:8]})
    from .safety.crisis import crisis_reply, resources_for, update_crisis_mode

    was_crisis = state.crisis_mode
    policy_action = verdict.action
    if was_crisis and verdict.action == "crisis":
        # in crisis mode the screen keeps saying crisis from context; only a signal in this
        # message itself is new (and restarts the full protocol)
        if ctx.input_guard.screen(text).action != "crisis":
            policy_action = "allow"
    new_crisis_signal = policy_action == "crisis"
    state.crisis_mode = update_crisis_mode(state.crisis_mode, text, verdict) if new_crisis_signal or not was_crisis \
        else update_crisis_mode(True, text, verdict.model_copy(update={"action": "allow"}))
    # an explicitly configured locale wins; otherwise the profile's (both default to US)
    locale = ctx.settings.locale if ctx.settings.locale != "US" else profile.locale

    intent = read_intent(text)
    if intent.goal and verdict.action == "allow":
        state.goal = intent.goal
    if intent.avoid:
        state.avoid_instruments = sorted(set(state.avoid_instruments) | set(intent.avoid))
    if intent.name == "change":
        state.tempo_shift = max(-3, min(3, state.tempo_shift + intent.tempo_shift))
        state.loudness_shift = max(-3, min(3, state.loudness_shift + intent.loudness_shift))
    consent_answer = False
    if state.consent_store is None and state.step == "checkin" and intent.name in {"yes", "no"}:
        state.consent_store = intent.name == "yes"
        consent_answer = len(re.findall(r"\w+", text)) <= 4  # a bare yes/no: thank, then ask
        intent = read_intent("")  # the yes/no answered the consent question, not an offer

    # 2. Mood (never blocks a turn: a failing sensor is skipped).
    mood = _mood(ctx, state, text)
    ctx.store.add_mood(ref.patient_id, ref.session_id, "fused", mood)
    yield MoodInferred(valence=mood["valence"], arousal=mood["arousal"], label=mood["label"],
                       confidence=mood["confidence"], emotions=mood["emotions"], evidence=mood["evidence"])

    state.summary = _running_summary(earlier, state)

    # 3. The step.
    over_time = (_now() - datetime.fromisoformat(state.started_at)) > timedelta(minutes=profile.session_minutes)
    decision = decide(state, policy_action, intent, allowed=set(profile.steps),
                      explore_before_offer=profile.explore_turns_before_offer, over_time=over_time)
    yield StepChosen(step=decision.step, intent=intent.name, reason=decision.reason)
    goal_words = state.goal[2] if state.goal else None
    if decision.step == "why" and state.last_piece:
        goal_words = state.last_piece.get("target_words") or goal_words
    passages = _retrieve(ctx, text, mood, decision.step, goal_words)
    if passages:
        yield PassagesRetrieved(passages=[_source_brief(p) for p in passages])

    reply = ""
    fallback = False
    music: dict | None = None
    crisis: dict | None = None
    sources: list[dict] = []
    step = decision.step

    if step == "crisis":
        resources = resources_for(locale, profile.crisis_resources or None)
        if new_crisis_signal or not was_crisis:
            cr = crisis_reply(verdict, locale, profile.crisis_resources or None)
            reply = cr.text
            reason = ", ".join(verdict.categories) + (f" (C-SSRS: {verdict.cssrs_label})" if verdict.cssrs_label else "")
            state.flag_reason = f"Crisis signal at turn {state.turns}: {reason}"
            ctx.store.append_event(ref.session_id, ref.patient_id, "Flagged", {"reason": state.flag_reason})
        else:
            first = resources[0] if resources else None
            reach = f"{first.name} ({first.contact})" if first else "your local emergency number"
            reply = ("I'm still here with you. Are you safe right now? If you might act on these thoughts, "
                     f"please contact {reach} now, or someone you trust. I can guide a slow breathing exercise "
                     "or play calm music while you reach out. When you're safe, just tell me.")
        crisis = {"locale": locale, "resources": [r.model_dump() for r in resources], "text": reply}
        yield ReplyDelta(reply)
    elif step == "block":
        reply = _block_reply(list(verdict.categories))
        yield ReplyDelta(reply)
    elif step == "checkin":
        state.pending_music = intent.name in {"music", "change"}
        returning = ctx.store.patient_data(ref.patient_id).get("sessions")
        greeting = profile.persona.greeting
        if returning:
            greeting = f"Welcome back. {greeting}"
        words = re.findall(r"\w+", text)
        if len(words) >= 4:
            for item in _reflect(ctx, state, profile, history, text, mood, passages):
                if isinstance(item, tuple):
                    reflection, fallback = item
                elif isinstance(item, ReplyDelta):
                    pass  # the greeting comes first; the whole reply is emitted below
                else:
                    yield item
            reply = f"{greeting} {reflection} {_consent_question()}"
            state.reflections += 1
        else:
            reply = f"{greeting} {_consent_question()}"
        state.questions += 1
        yield ReplyDelta(reply)
    elif step == "compose":
        state.pending_music = False
        args = {"start": [mood["valence"], mood["arousal"]], "goal": state.goal[2] if state.goal else None,
                "avoid": state.avoid_instruments, "crisis_mode": state.crisis_mode}
        yield ToolCalled(name="compose_music", arguments=args)
        music = compose_for_turn(ctx, ref, state, profile, mood, passages)
        yield ToolResult(name="compose_music", result={"piece_id": music["piece_id"], "seconds": music["seconds"]})
        state.last_piece = {k: music[k] for k in ("piece_id", "wav", "why", "breaths_per_minute", "seconds",
                                                  "target_words", "end_bpm")}
        state.pieces += 1
        sources = [_source_brief(p) for p in passages[:2]]
        paced = (f" It is paced for slow breathing, about {music['breaths_per_minute']:g} breaths a minute: "
                 "breathe in as it swells and out as it eases.") if music["breaths_per_minute"] else ""
        cite = f" (Guidance: {sources[0]['title']}.)" if sources else ""
        lead = "Here's a calm, steady piece for right now." if state.crisis_mode else (
            f"Here's a {music['seconds']:.0f}-second piece that starts close to how you feel and moves "
            f"gently toward {music['target_words']}.")
        reply = (f"{lead}{paced} Listen at a comfortable volume and stop it any time.{cite} "
                 "Afterwards, tell me how it felt.")
        if state.crisis_mode:
            reply += " Please also keep the crisis contacts close; are you safe right now?"
        yield ReplyDelta(reply)
    elif step == "why":
        piece = state.last_piece or {}
        sources = [_source_brief(p) for p in passages[:2]]
        why = piece.get("why", [])
        cite = f" Guidance I drew on: {sources[0]['title']}." if sources else ""
        reply = ("Here's why this music. " + " ".join(why[:3]) +
                 " The full list of reasons is in the 'Why this music' notes next to the piece." + cite)
        yield ReplyDelta(reply)
    elif step == "stop_music":
        yield ToolCalled(name="stop_music", arguments={})
        reply = ("I've stopped the music. We can sit with the quiet for a moment, or you can tell me "
                 "how that was.")
        yield ReplyDelta(reply)
    elif step == "close":
        resources = resources_for(locale, profile.crisis_resources or None)
        line = (f"If things get hard, {resources[0].name} is there: {resources[0].contact}." if resources else "")
        reply = _close_text(state, mood, line)
        yield ReplyDelta(reply)
    elif consent_answer and step == "explore":
        thanks = ("Thank you. I'll keep our notes encrypted, and you can ask for them to be deleted at any time."
                  if state.consent_store else
                  "That's fine: I won't keep this conversation once we finish.")
        reply = f"{thanks} {open_question(mood['valence'], mood['arousal'], state.turns, text)}"
        state.questions += 1
        yield ReplyDelta(reply)
    else:  # explore, offer_music, listen_checkin, reflect: a model-worded reflection plus code's frame
        reflection = ""
        for item in _reflect(ctx, state, profile, history, text, mood, passages):
            if isinstance(item, tuple):
                reflection, fallback = item
            else:
                yield item
        state.reflections += 1
        tail = ""
        if step == "offer_music":
            state.offered_music = True
            target = state.goal[2] if state.goal else profile.target.label
            tail = (f" Would you like me to make a short piece of music that starts where you are and "
                    f"moves gently toward feeling {target}?")
            state.questions += 1
        elif step == "listen_checkin":
            tail = (" If you like, use the mood check to rate how you feel now. "
                    "Would you like another piece, or shall we talk a little?")
            state.questions += 1
        elif step == "reflect":
            tail = " " + affirmation(state.turns, text)
        else:
            state.explore_turns += 1
            if state.explore_turns % 2 == 0:
                tail = " " + open_question(mood["valence"], mood["arousal"], state.turns, text)
                state.questions += 1
            else:
                tail = " " + affirmation(state.turns, text)
        reply = f"{reflection}{tail}"
        yield ReplyDelta(tail)

    if fallback:
        state.fallbacks += 1
    reply = reply.strip()
    yield Reply(text=reply, fallback=fallback)
    # remember the step we are in for the next turn
    if step in {"checkin", "explore", "offer_music", "compose", "listen_checkin", "crisis", "close"}:
        state.step = "offer_music" if step == "offer_music" else step
    elif step == "reflect":
        state.step = "explore"
    if step == "close":
        _remember_session(ctx, ref, state, mood)
    ctx.store.append_turn(ref.session_id, ref.patient_id, "assistant", reply,
                          {"action": verdict.action, "step": step, "fallback": fallback,
                           "sources": [s["id"] for s in sources], "piece_id": music and music["piece_id"],
                           "seconds": round(time.perf_counter() - started, 3)})
    ctx.store.save_session_state(ref.session_id, ref.patient_id, state.model_dump(mode="json"),
                                 flagged=True if state.flag_reason else None)
    mood_out = {k: mood[k] for k in ("valence", "arousal", "label", "confidence", "emotions")}
    yield TurnDone(reply=reply, action=verdict.action, mood=mood_out, music=_public_music(music), sources=sources,
                   session=ref.session_id, step=step, crisis=crisis)


SUMMARY_CHARS = 320  # the small model's context is short: the summary stays within this


def _running_summary(earlier: list[str], state: SessionState) -> str:
    """What a long session has covered, in the person's own words, for the model's context.

    The model sees the last two messages in full; anything older is folded into
    this summary (key phrases, newest first, and how many pieces were played).
    """
    older = earlier[:-2]
    if not older:
        return ""
    from .reply import key_phrase

    phrases = []
    for message in reversed(older):
        found = key_phrase(message)
        if found and found[1] not in phrases:
            phrases.append(found[1])
    text = "They have talked about: " + "; ".join(phrases) if phrases else ""
    if state.pieces:
        text += f". Pieces played so far: {state.pieces}"
    return text[:SUMMARY_CHARS]


def _public_music(music: dict | None) -> dict | None:
    if music is None:
        return None
    return {k: music[k] for k in ("piece_id", "wav", "ogg", "midi", "musicxml", "png", "plan", "why",
                                  "breaths_per_minute", "seconds")}


def _remember_session(ctx: AppContext, ref: SessionRef, state: SessionState, mood: dict) -> None:
    """Per-patient memory across sessions: a short summary, preferences, what to avoid."""
    if state.consent_store is False:
        return  # they asked us not to keep notes
    memory = ctx.store.patient_data(ref.patient_id)
    memory.setdefault("sessions", []).append({
        "session_id": ref.session_id, "ended": _now().isoformat(), "pieces": state.pieces,
        "mood_at_end": mood["label"], "goal": state.goal[2] if state.goal else None})
    del memory["sessions"][:-20]
    prefs = memory.setdefault("preferences", {})
    prefs["avoid_instruments"] = sorted(set(prefs.get("avoid_instruments", [])) | set(state.avoid_instruments))
    ctx.store.set_patient_data(ref.patient_id, memory)


def collect(events: Iterator[Event]) -> TurnDone:
    """Run a turn to the end and return its final event."""
    done = None
    for ev in events:
        if isinstance(ev, TurnDone):
            done = ev
    assert done is not None, "a turn always ends with TurnDone"
    return done
