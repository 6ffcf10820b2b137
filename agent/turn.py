"""One patient turn: a short pipeline of named steps yielding typed events (DESIGN.md, "One patient turn").

    message -> screen (whole conversation) -> crisis or block? code replies, no model
            -> read (what the person is doing and asking for) -> mood (text, ratings, senses)
            -> policy picks the step -> the step's handler (compose, answer why, reflect ...)
            -> output screen on every model sentence -> store (encrypted) -> TurnDone

Code decides safety and which tool runs; the model only chooses words for
reflections, and every model sentence passes the checks in ``reflect``
before it is shown. Two kinds of failure (STYLE.md 7): a model that writes
something unusable gets a code-written fallback; bad input and configuration
raise.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from .context import AppContext, SessionRef
from attune.common.errors import AttuneError, InputError, from_failure
from .events import (Event, MoodInferred, PassagesRetrieved, Reply, ReplyDelta, Screened, StepChosen, ToolCalled,
                     ToolResult, TurnDone, TurnFailed, TurnStarted)
from .policy import SURE_YES, SessionState, decide
from .reader import GOALS, Reading, clauses, read, second_person
from .reflect import SYSTEM_TEMPLATE, reflect
from .reply import affirmation, open_question
from .store.turn_writes import TurnWrites
from .text import clean_message

__all__ = ["run_turn", "collect", "SYSTEM_TEMPLATE", "Turn", "STEPS", "close_text", "remember_session"]

log = logging.getLogger(__name__)

TURN_FAILED = ("Something went wrong on our side while replying, and this reply was not written. "
               "Nothing you saved earlier was lost; please send your message again.")


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
    """Infer from the words, let a fresh self-rating dominate, smooth across turns (a clear message is not diluted)."""
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
            heart = r.get("heart_rate")
            break

    estimate = infer(text=text, heart_rate=heart, estimates=_sensed(state))
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


def _mood_words(text: str, reading: Reading, heard_a_piece: bool = True) -> str:
    """The words that say how the person feels: a request or feedback describes the music, not them.

    Before any piece there is nothing to give feedback on: a message read as feedback then ("felt like
    rain on a window all day") is about the person, and all of it counts.
    """
    if reading.intent == "feedback" and not heard_a_piece:
        return text
    if reading.intent == "why":
        return reading.about or ""  # "why start gloomy?" asks about the music; it does not say they are gloomy
    if reading.intent in {"music", "feedback"}:
        said = reading.feeling or reading.about or ""  # "play something calm, I'm wound up": the second clause
        if heard_a_piece and reading.intent == "music" and said:
            # "that's too sleepy, I need something with more drive": the first clause is about the piece, and
            # had read the person as tired (and cited the guidance on sleep)
            said = " ".join(c for c in clauses(said) if read(c).intent != "feedback")
        return said
    if reading.intent in {"yes", "no", "stop", "bye"} and len(re.findall(r"\w+", text)) <= 4:
        return ""  # "yes please" says nothing about the mood
    return text


def _retrieve(ctx: AppContext, t: "Turn") -> list[dict]:
    from attune.knowledge.questions import answer_passages

    goal_words = t.state.goal[2] if t.state.goal else None
    try:
        if t.step == "why":
            passages = answer_passages(ctx.retriever, t.text[:500], k=3)
        elif t.step == "compose":
            passages = ctx.retriever.search(f"music to feel {goal_words or 'calmer'} when feeling "
                                            f"{t.mood['label']}", k=3)
        else:
            passages = ctx.retriever.search(f"{t.text[:300]} feeling {t.mood['label']}"
                                            + (f" goal {goal_words}" if goal_words else ""), k=3)
    except InputError:
        return []
    return [p.model_dump(mode="json") if hasattr(p, "model_dump") else dict(p) for p in passages]


def _source_brief(p: dict) -> dict:
    return {"id": p["id"], "title": p["title"], "source": p.get("source", ""), "text": p["text"],
            "score": p.get("score"), "topics": list(p.get("topics") or [])}


#: guidance on how a piece is built: a question answered from it is about the piece too
_PIECE_TOPICS = frozenset({"composition", "music-cues", "iso-principle", "session-design"})


_BLOCK_TEXT = {
    "method_request": "I can't help with that. If part of you is thinking about harming yourself, "
                      "please tell me, or reach a crisis line now; you deserve support from a person.",
    "privacy_request": "I can't share anything about other people who use Attune: each person's conversations "
                       "and music are private to them. I can only ever talk with you about your own.",
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
    for cat in ("method_request", "privacy_request", "medication_request", "diagnosis_request", "prompt_injection",
                "out_of_scope"):
        if cat in categories:
            return _BLOCK_TEXT[cat]
    return _BLOCK_TEXT["out_of_scope"]


@dataclass
class Turn:
    """Everything one turn reads and writes; step handlers fill in the reply."""

    ctx: AppContext
    ref: SessionRef
    text: str
    state: SessionState
    profile: Any
    history: list[dict]
    verdict: Any = None
    reading: Reading = field(default_factory=Reading)
    mood: dict = field(default_factory=dict)
    locale: str = "US"
    step: str = ""
    passages: list[dict] = field(default_factory=list)
    policy_action: str = "allow"  # the screen's action as the policy should see it
    was_crisis: bool = False
    new_crisis_signal: bool = False
    crisis_cleared: bool = False
    consent_answer: bool = False
    first: bool = False  # the session's first message
    greeted: bool = False  # the greeting is said once, even when agent mode falls back to code's step
    revision: int = 0  # the session state's revision when read (the save refuses if it moved on)
    change_notes: list[str] = field(default_factory=list)
    reply: str = ""
    fallback: bool = False
    music: dict | None = None
    crisis: dict | None = None
    sources: list[dict] = field(default_factory=list)

    @property
    def earlier(self) -> list[str]:
        return [h["content"] for h in self.history if h["role"] == "user"]


def _consent_question(first: bool) -> str:
    lead = "Is it okay" if first else "By the way, is it okay"
    return (f"{lead} if I keep notes of our conversation, encrypted, so we can pick up next time? "
            "You can say no.")


def _ask_consent(t: Turn) -> str:
    """The notes question, asked alongside the reply (never as a gate), once a session (unanswered: no notes)."""
    if t.state.consent_store is not None or t.state.consent_asked >= 1:
        return ""
    t.state.consent_asked += 1
    t.state.consent_turn = t.state.turns
    t.state.questions += 1
    return _consent_question(t.step == "checkin")


def _greeting(t: Turn) -> str:
    greeting = t.profile.persona.greeting
    if t.ctx.store.patient_data(t.ref.patient_id).get("sessions"):
        greeting = f"Welcome back. {greeting}"
    return greeting


def _greet(t: Turn) -> Iterator[Event]:
    if not t.greeted:
        t.greeted = True
        yield _say(t, _greeting(t))


def _say(t: Turn, text: str) -> ReplyDelta:
    """Add a sentence (or several) to the reply; the delta streams it to the page as it is decided."""
    text = text.strip()
    delta = text if not t.reply else " " + text
    t.reply += delta
    return ReplyDelta(delta)


def _reflection(t: Turn) -> Iterator[Event]:
    """Run the reflection and add its checked sentence to the reply."""
    for item in reflect(t.ctx, t.state, t.profile, t.history, t.text, t.mood, t.reading, t.passages):
        if isinstance(item, tuple):
            sentence, fallback = item
            t.fallback = t.fallback or fallback
            t.state.reflections += 1
            yield _say(t, sentence)
        elif not isinstance(item, ReplyDelta):
            yield item  # a sentence streams only once it has passed its checks


def _question(t: Turn) -> str:
    q = open_question(t.mood["valence"], t.mood["arousal"], t.state.turns, t.text, t.reading,
                      used=t.state.used_lines)
    t.state.used_lines.append(q)
    t.state.questions += 1
    return q


def _affirm(t: Turn) -> str:
    a = affirmation(t.state.turns, t.text, t.mood["valence"], used=t.state.used_lines)
    t.state.used_lines.append(a)
    return a


# ---------------------------------------------------------------- step handlers


def step_crisis(t: Turn) -> Iterator[Event]:
    from .safety.crisis import crisis_reply, resources_for

    resources = resources_for(t.locale, t.profile.crisis_resources or None)
    if t.new_crisis_signal or not t.was_crisis:
        t.reply = crisis_reply(t.verdict, t.locale, t.profile.crisis_resources or None).text
        reason = ", ".join(t.verdict.categories) + (
            f" (C-SSRS: {t.verdict.cssrs_label})" if t.verdict.cssrs_label else "")
        t.state.flag_reason = f"Crisis signal at turn {t.state.turns}: {reason}"
        t.state.flag_corrected = None
        t.ctx.store.append_event(t.ref.session_id, t.ref.patient_id, "Flagged", {"reason": t.state.flag_reason})
    else:
        first = resources[0] if resources else None
        reach = f"{first.name} ({first.contact})" if first else "your local emergency number"
        t.reply = ("I'm still here with you. Are you safe right now? If you might act on these thoughts, "
                   f"please contact {reach} now, or someone you trust. I can guide a slow breathing exercise "
                   "or play calm music while you reach out. When you're safe, just tell me.")
    t.crisis = {"locale": t.locale, "resources": [r.model_dump() for r in resources], "text": t.reply}
    yield ReplyDelta(t.reply)


def step_block(t: Turn) -> Iterator[Event]:
    t.reply = _block_reply(list(t.verdict.categories))
    if "method_request" in t.verdict.categories:
        # a refusal of a method question carries the locale's crisis contacts and a gentle check-in
        from .safety.crisis import resources_for

        first = next(iter(resources_for(t.locale, t.profile.crisis_resources or None)), None)
        reach = f"{first.name} ({first.contact})" if first else "your local emergency number"
        t.reply += f" {reach} is there any time, day or night. How are you doing right now?"
    yield ReplyDelta(t.reply)


def step_checkin(t: Turn) -> Iterator[Event]:
    yield from _greet(t)
    # a first message that only asks something ("am I talking to a real person?") is answered by the
    # greeting; naming a feeling the person never mentioned would not be listening
    asks_only = t.text.rstrip().endswith("?") and not t.reading.about
    if len(re.findall(r"\w+", t.text)) >= 4 and not asks_only:
        yield from _reflection(t)
    yield _say(t, _ask_consent(t) or _question(t))


# Attune's pieces never use drums (tools/music/limits.py); "a bit less drums next time" was answered "This one is
# slower ... and softer" as if there had been some to take out
_DRUMS = re.compile(r"\b(?:drums?|drumming|drum ?kit|percussion|percussive|schlagzeug|trommeln?|batterie|percussions?|"
                    r"bater[ií]a|tambor(?:es)?|percusi[oó]n|percussione|batteria|percuss[aã]o)\b", re.I)


def _music_lead(t: Turn, music: dict) -> str:
    from .music_prefs import PieceMeasures, describe_change, spoken_length

    if t.state.crisis_mode:
        return "Here's a calm, steady piece for right now."
    last = (t.state.last_piece or {}).get("measures")
    change = describe_change(PieceMeasures(**last) if last else None, PieceMeasures(**music["measures"]),
                             t.reading.changes, t.reading.drop, t.reading.use) if t.reading.asks_change else ""
    notes = (" " + " ".join(t.change_notes)) if t.change_notes else ""
    if change and _DRUMS.search(t.text):
        return f"There are no drums in these pieces, so I made this one gentler instead. {change}{notes}"
    if change:
        return f"{change}{notes}"
    length = spoken_length(music["seconds"]).replace("seconds", "second").replace("minutes", "minute")
    return (f"Here's a {length.replace(' ', '-')} piece that starts close to how you feel and moves "
            f"gently toward {music['target_words']}.{notes}")


def _took_piece(t: Turn, music: dict) -> None:
    """The turn made a piece: it becomes the session's current one (ratings and "why" are about it)."""
    t.music = music
    t.state.last_piece = {k: music[k] for k in ("piece_id", "wav", "why", "breaths_per_minute", "seconds",
                                                "target_words", "end_bpm", "measures")}
    t.state.pieces += 1
    t.sources = [_source_brief(p) for p in t.passages[:2]]


def step_agent(t: Turn) -> Iterator[Event]:
    """A capable model words the turn and calls tools (agent_step); code's step answers if it fails a check."""
    from .agent_step import agent_reply

    if t.first:
        yield from _greet(t)
    reply = None
    for item in agent_reply(t, lambda music: _took_piece(t, music)):
        if isinstance(item, str) or item is None:
            reply = item
        else:
            yield item
    if reply is None:
        t.fallback = True
        if not t.music:
            yield from STEPS[t.step](t)  # code's step for this turn asks consent itself where it should
            return
        yield _say(t, _music_lead(t, t.music) + " Listen at a comfortable volume and stop it any time.")
    else:
        yield _say(t, reply)
    if consent := _ask_consent(t):
        yield _say(t, consent)


def step_compose(t: Turn) -> Iterator[Event]:
    from .toolbox import ToolContext, call

    # what does not depend on the piece reaches the page while the piece is composed and rendered
    if t.first:
        yield from _greet(t)
    if t.reading.about and not t.state.crisis_mode:  # they said how they are as well as what they want
        yield from _reflection(t)
    args: dict = {}  # the guided protocol follows the session's goal and the person's standing requests
    yield ToolCalled(name="compose_music", arguments=args)
    music = call("compose_music", ToolContext(t.ctx, t.ref, t.state, t.profile, t.mood, t.passages), args)
    yield ToolResult(name="compose_music", result={"piece_id": music["piece_id"], "seconds": music["seconds"]})
    lead = _music_lead(t, music)  # before the piece becomes the current one: it compares with the last
    _took_piece(t, music)
    paced = (f" It is paced for slow breathing, about {music['breaths_per_minute']:g} breaths a minute: "
             "breathe in as it swells and out as it eases.") if music["breaths_per_minute"] else ""
    cite = f" (Guidance: {t.sources[0]['title']}.)" if t.sources else ""
    yield _say(t, f"{lead}{paced} Listen at a comfortable volume and stop it any time.{cite} "
                  "Afterwards, tell me how it felt.")
    if t.state.crisis_mode:
        yield _say(t, "Please also keep the crisis contacts close; are you safe right now?")
    elif consent := _ask_consent(t):
        yield _say(t, consent)


def _passage_gist(text: str, question: str = "", sentences: int = 2, told: str = "") -> str:
    """The passage's sentences that best answer ``question`` (local sentence embedding), in the passage's
    order, without its Markdown; its first sentences when there is no question. A sentence citing a year
    that ``told`` already cites is left out: "... is the iso principle (Altshuler 1948)" had been followed by
    "The psychiatrist Ira Altshuler described it in 1948: ..." """
    plain = re.sub(r"[#*_`>]+", "", text).strip()
    parts = [p.strip().lstrip("-").strip() for p in re.split(r"(?<=[.!?])\s+|\n+", plain)]
    # sentences that answer: not the document's questions, not its headings
    parts = [p for p in parts if p.endswith((".", "!", ")")) and len(p.split()) >= 4]
    years = set(re.findall(r"\b(?:1[89]|20)\d\d\b", told))
    fresh = [p for p in parts if not years & set(re.findall(r"\b(?:1[89]|20)\d\d\b", p))]
    parts = fresh or parts
    if question and len(parts) > sentences:
        from attune.knowledge.embedding import embed

        vectors = embed([question, *parts])
        best = sorted(range(len(parts)), key=lambda i: -float(vectors[i + 1] @ vectors[0]))[:sentences]
        parts = [parts[i] for i in sorted(best)]
    return " ".join(parts[:sentences]).strip()


def _closer(question: str, first: str, second: str) -> bool:
    """Whether ``first`` answers ``question`` at least as nearly as ``second`` (local sentence embedding)."""
    from attune.knowledge.embedding import embed

    q, a, b = embed([question, first, second])
    return float(a @ q) >= float(b @ q)


_EARLIER_PIECE = re.compile(r"\b(?P<first>first)\b|\b(?P<before>previous|earlier|other|one before)\b",
                            re.IGNORECASE)


def _asked_piece(t: Turn) -> tuple[dict, str]:
    """The piece a question is about: "why did the first one start so low?" names the session's first;
    "the previous/earlier one" the one before the latest; otherwise the latest. Ordinals are a closed
    vocabulary, so a pattern is the precise tool."""
    latest = t.state.last_piece or {}
    m = _EARLIER_PIECE.search(t.text)
    if not m or t.state.pieces < 2:
        return latest, "last"
    made = [p for p in t.ctx.store.pieces(t.ref.patient_id) if p.get("session_id") == t.ref.session_id]
    if len(made) < 2:
        return latest, "last"
    return (made[0], "first") if m.group("first") else (made[-2], "earlier")


def step_why(t: Turn) -> Iterator[Event]:
    """A question about the music: the cited passage's sentences that answer it and what the last piece did,
    whichever answers the question more nearly first."""
    t.sources = [_source_brief(p) for p in t.passages[:2]]
    piece, which = _asked_piece(t)
    if t.sources:
        top = t.sources[0]
        said = " ".join(piece.get("why", [])[1:3])  # where the piece starts and leads (iso), and its key
        own = f"In your {which} piece, {said[:1].lower()}{said[1:]}" if said else ""
        if which != "last":  # its reasons were written when it was made
            own = own.replace("how you feel now", "how you felt then")
        gist = _passage_gist(top["text"], t.text, sentences=2)
        # the piece is told when the guidance is about how pieces are built, or when the piece answers the
        # question at least as nearly: "is music enough or should I talk to someone?" is not about its key
        about_piece = bool(own) and (bool(_PIECE_TOPICS & set(top["topics"])) or _closer(t.text, own, gist))
        if about_piece:
            gist = _passage_gist(top["text"], t.text, sentences=1, told=own)  # the piece says the rest
        cited = f"{gist} (Guidance: {top['title']} [{top['id']}].)"
        t.reply = cited
        if about_piece:
            t.reply = f"{own} {cited} The full list is in the 'Why this music' notes beside it."
    elif piece.get("why"):
        lead = "Here's why this music. " if which == "last" else f"Here's why your {which} piece sounded as it did. "
        t.reply = lead + " ".join(piece["why"][:3])
    else:
        t.reply = ("I start from how you feel and change the music step by step toward where you'd like to be; "
                   "ask me for a piece and I'll explain each choice.")
    yield ReplyDelta(t.reply)


def step_stop_music(t: Turn) -> Iterator[Event]:
    t.reply = "I've stopped the music. We can sit with the quiet for a moment, or you can tell me how that was."
    yield ReplyDelta(t.reply)


def step_close(t: Turn) -> Iterator[Event]:
    if t.state.step == "close":  # the summary was just given: a second "bye" gets a goodbye, not the summary again
        t.reply = "Goodbye for now. I'm here whenever you want to come back."
    else:
        t.reply = close_text(t.state, goodbye_line(t.state, t.mood, t.locale, t.profile))
    yield ReplyDelta(t.reply)


HARD_GOODBYE_VALENCE = -0.35  # a mood this low at the end: the goodbye names where help is ...
HARD_GOODBYE_AROUSAL = 0.2  # ... when it is low in energy too (sad, hopeless), not angry or wound up


def goodbye_line(state: SessionState, mood: dict, locale: str, profile) -> str:
    """Where help is, in a goodbye after a hard session (crisis, a flag, a low mood at the end); else nothing.

    Someone who relaxed to two pieces and says goodnight is not sent off with a suicide line; the
    page's help panel keeps the resources one click away for everyone.
    """
    from .safety.crisis import resources_for

    # a low mood, not any unpleasant one: someone still cross with a boss who says "ok I'm off, cheers" had been
    # sent off with the suicide line
    low = mood.get("valence", 0.0) <= HARD_GOODBYE_VALENCE and mood.get("arousal", 0.0) < HARD_GOODBYE_AROUSAL
    hard = state.crisis_mode or bool(state.flag_reason) or low
    resources = resources_for(locale, profile.crisis_resources or None) if hard else []
    return f"If things get hard, {resources[0].name} is there: {resources[0].contact}." if resources else ""


def step_feedback(t: Turn) -> Iterator[Event]:
    """Feedback with no change asked: glad it helped, or an offer to change it."""
    if t.mood.get("text_valence", 0.0) < -0.15:
        t.reply = ("Thank you for telling me. What would you change: faster or slower, brighter or darker, "
                   "shorter, softer, or a different instrument?")
        t.state.questions += 1
    else:
        t.reply = ("I'm glad that one worked for you. I'll keep the music like this; would you like another, "
                   "or shall we talk a little?")
        t.state.questions += 1
    yield ReplyDelta(t.reply)


_CLARIFY = {
    "music": "Would you like me to play some music now?",
    "feedback": "Would you like me to change the next piece? Tell me how: faster or slower, brighter or darker, "
                "shorter, softer, or a different instrument.",
    "stop": "Would you like me to stop the music?",
    "bye": "Would you like to end our session here?",
}


_A_PLAN = re.compile(r"i(?:'ll| will| think| am going| might)\b", re.IGNORECASE)  # "I'll try calling her"


def step_clarify(t: Turn) -> Iterator[Event]:
    if t.state.pending == "another" and t.reading.intent == "yes":  # a vague "ok, thanks" to "shall I make another?"
        text = "Would you like another piece now, or is that enough music for today?"
    else:
        text = _CLARIFY.get(t.reading.intent, "Could you tell me a little more about what you'd like?")
    if t.reading.intent == "bye":  # "ok. I think I'll try to talk to him tonight": heard first, then asked
        plan = next((c for c in reversed(clauses(t.text)) if _A_PLAN.match(c)), None)
        if plan:  # their own words, turned to "you" (a model sentence had said "after all these days")
            yield _say(t, f"So {second_person(plan)}.")
    t.state.questions += 1
    yield _say(t, text)


def step_talk(t: Turn) -> Iterator[Event]:
    """explore, offer_music, listen_checkin, reflect: a reflection plus one frame sentence from code."""
    if t.consent_answer:
        thanks = ("Thank you. I'll keep our notes encrypted, and you can ask for them to be deleted at any time."
                  if t.state.consent_store else "That's fine: I won't keep this conversation once we finish.")
        yield _say(t, thanks)
        # an invitation, not another question: a bare yes or no has nothing to reflect yet
        yield _say(t, "I'm here when you want to talk about how things are, and I can make some music whenever "
                      "you like.")
        return
    yield from _reflection(t)
    if t.step == "offer_music":
        t.state.offered_music = True
        target = t.state.goal[2] if t.state.goal else t.profile.target.label
        tail = (f"Would you like me to make a short piece of music that starts where you are and "
                f"moves gently toward feeling {target}?")
        t.state.questions += 1
    elif t.step == "listen_checkin":
        tail = ("If you like, use the mood check to rate how you feel now. "
                "Shall I make you another piece? We can also just talk, if you'd rather.")
        t.state.questions += 1
    elif t.step == "reflect":
        tail = _affirm(t)
    else:
        t.state.explore_turns += 1
        tail = _question(t) if t.state.explore_turns % 2 == 0 else _affirm(t)
    yield _say(t, tail)


STEPS: dict[str, Callable[[Turn], Iterator[Event]]] = {
    "crisis": step_crisis, "block": step_block, "checkin": step_checkin, "compose": step_compose,
    "why": step_why, "stop_music": step_stop_music, "close": step_close, "feedback": step_feedback,
    "clarify": step_clarify, "explore": step_talk, "offer_music": step_talk, "listen_checkin": step_talk,
    "reflect": step_talk,
}
#: steps a capable model may lead in agent mode; crisis, block, stopping and closing stay code's
AGENT_STEPS = frozenset({"checkin", "compose", "why", "feedback", "clarify", "explore", "offer_music",
                         "listen_checkin", "reflect"})
#: the step the session is in afterwards (steps not listed leave it as it was)
NEXT_STATE = {"checkin": "checkin", "explore": "explore", "offer_music": "offer_music", "compose": "compose",
              "listen_checkin": "listen_checkin", "crisis": "crisis", "close": "close", "reflect": "explore",
              "feedback": "listen_checkin"}


def close_text(state: SessionState, resources_line: str) -> str:
    pieces = f"we listened to {state.pieces} piece{'s' if state.pieces != 1 else ''}" if state.pieces else \
        "we talked without music"
    suds = [r.get("suds") for r in state.self_reports if r.get("suds") is not None]
    change = f", and your distress rating went from {suds[0]:g} to {suds[-1]:g}" if len(suds) >= 2 else ""
    # No guess at how the person feels now: "you seem to be feeling low now" answered "thanks, that helped.
    # bye" (2026-12-07); the session's mood lags the person, and the mood model reads a bare "bye" as sad
    # (-0.44), so the goodbye's own words cannot veto it. Their own ratings, above, are named.
    return (f"Thank you for spending this time with me. Today {pieces}{change}. Something to try before next time: a few minutes of slow breathing with "
            f"a calm piece, at a comfortable volume. {resources_line + ' ' if resources_line else ''}"
            "Take care of yourself.")


# ---------------------------------------------------------------- the pipeline


def _load(ctx: AppContext, ref: SessionRef, message: str) -> Turn:
    limit = ctx.settings.max_message_chars
    text = clean_message(message, max_chars=max(limit, len(message or "")))  # length is checked after screening
    session = ctx.store.session(ref.session_id, ref.patient_id)
    state = SessionState.model_validate(session["state"] or {})
    history = [{"role": "user" if x["role"] == "patient" else "assistant", "content": x["content"]}
               for x in ctx.store.turns(ref.session_id, ref.patient_id)]
    state.turns += 1
    state.started_at = state.started_at or _now().isoformat()
    return Turn(ctx, ref, text, state, ctx.profile(session["profile"]), history, first=state.step == "new",
                revision=session["revision"])


def _screen(t: Turn) -> Iterator[Event]:
    """Safety first: the whole message, read with the conversation so far; then store it."""
    from .safety.crisis import update_crisis_mode

    ctx, ref, limit = t.ctx, t.ref, t.ctx.settings.max_message_chars
    t.verdict = v = ctx.input_guard.screen(t.text, t.earlier[-12:])
    yield Screened(action=v.action, categories=list(v.categories), score=round(v.score, 3))
    if len(t.text) > limit and v.action != "crisis":
        raise InputError(f"The message is {len(t.text):,} characters long; the limit is {limit:,}. "
                         "Please send a shorter message (nothing was stored).")
    ctx.store.append_turn(ref.session_id, ref.patient_id, "patient", t.text,
                          {"action": v.action, "categories": list(v.categories)})
    ctx.store.append_event(ref.session_id, ref.patient_id, "Screened",
                           {"action": v.action, "categories": list(v.categories), "score": v.score,
                            "reasons": list(v.reasons)[:8]})
    t.was_crisis = t.state.crisis_mode
    policy_action = v.action
    if t.was_crisis and v.action == "crisis" and ctx.input_guard.screen(t.text).action != "crisis":
        # in crisis mode the screen keeps saying crisis from context; only a signal in this
        # message itself is new (and restarts the full protocol)
        policy_action = "allow"
    t.new_crisis_signal = policy_action == "crisis"
    t.state.crisis_mode = update_crisis_mode(t.state.crisis_mode, t.text, v) if t.new_crisis_signal or not t.was_crisis \
        else update_crisis_mode(True, t.text, v.model_copy(update={"action": "allow"}))
    t.policy_action = policy_action
    if t.was_crisis and not t.state.crisis_mode and t.state.flag_reason:
        # "I'm safe, I only meant I'm done chatting": the banner goes and the console shows the flag as
        # corrected at this turn (it stays on record; a new crisis signal flags the session again)
        t.state.flag_corrected = f"Corrected at turn {t.state.turns}: the person said they are safe."
        t.crisis_cleared = True
        ctx.store.append_event(ref.session_id, ref.patient_id, "FlagCorrected", {"turn": t.state.turns})
    # an explicitly configured locale wins; otherwise the profile's (both default to US)
    t.locale = ctx.settings.locale if ctx.settings.locale != "US" else t.profile.locale


def _also_asks_for_music(text: str, r: Reading) -> bool:
    """ "Yes, go for it, make it upbeat": the answer to a question, and a request in one of its clauses."""
    from .reader import clauses, piece_probability

    if piece_probability(r.probs) >= 0.25:
        return True
    return any(read(c).wants_music for c in clauses(text)[1:4])


def _understand(t: Turn) -> None:
    """Read the message; a stated goal, a consent answer and asked-for changes update the session."""
    from .music_prefs import MusicPrefs, PieceMeasures, apply_feedback

    t.reading = r = read(t.text)
    s = t.state
    if r.goal and t.verdict.action == "allow":
        s.goal = GOALS[r.goal]
    # the notes question is answered by the next message, or by a later clear yes or no when nothing else was
    # asked: "ok, thanks" to an explanation (yes 0.43) had been taken as consent to keep health notes
    if s.consent_store is None and s.consent_asked and r.intent in {"yes", "no"} and (
            s.consent_turn == s.turns - 1 or (s.pending is None and r.confidence >= SURE_YES)):
        s.consent_store = r.intent == "yes"
        if not _also_asks_for_music(t.text, r):
            t.consent_answer = True
            t.reading = Reading(intent="talk", confidence=r.confidence, about=r.about, about_kind=r.about_kind)
            return
        # "yes, go for it, make it upbeat": the answer and a request for music in one message
        t.reading = r = read(t.text).model_copy(update={"intent": "music", "rule": "consent and request"})
    elif (r.intent == "yes" and _also_asks_for_music(t.text, r)) or (
            r.intent == "no" and any(read(c).intent == "music" for c in clauses(t.text)[1:4])):
        # "yeah, could you play me something?" read as yes (0.53) with no question pending, and the person
        # was asked what had been a comfort instead of getting music; a no needs a clause that asks for a
        # piece ("no, just play me something calm"), not one about the last ("no, the last song was too sad")
        t.reading = r = r.model_copy(update={"intent": "music", "rule": "answer and request"})
    if r.intent in {"music", "feedback"} and (r.asks_change or r.intent == "music"):
        last = (s.last_piece or {}).get("measures")
        prefs, notes = apply_feedback(MusicPrefs.model_validate(s.music_prefs or {}), r.changes, r.drop, r.use,
                                      PieceMeasures(**last) if last else None, t.profile.music,
                                      crisis=s.crisis_mode, default_seconds=t.profile.piece_seconds,
                                      seconds=r.seconds, bpm=r.bpm)
        s.music_prefs = prefs.model_dump(mode="json")
        if last and (r.seconds or r.bpm):  # a named amount is described like a step: "longer: about 900 seconds"
            named = {"length": r.seconds and (1 if prefs.seconds > last["seconds"] else -1),
                     "tempo": r.bpm and prefs.bpm and (1 if prefs.bpm > last["bpm"] else -1)}
            t.reading = r.model_copy(update={"changes": {**r.changes, **{d: x for d, x in named.items() if x}}})
        s.avoid_instruments = sorted(set(s.avoid_instruments) | set(prefs.avoid))
        t.change_notes = notes


def run_turn(ctx: AppContext, ref: SessionRef, message: str) -> Iterator[Event]:
    """One turn as a stream of events; the last is TurnDone.

    The session is held for the whole turn (``Store.session_lock``): a second message, a rating or a
    reading for the same session, from this process or another server on the same database, waits
    for it, so no update is lost.

    A turn that cannot finish ends with ``TurnFailed`` instead of raising half-way through the stream:
    a clear message for bad input or an unavailable resource, a plain apology for a bug (logged by
    type and place only, never with the person's words).
    """
    try:
        with ctx.store.session_lock(ref.session_id):
            yield from _run_turn(ctx, ref, message)
    except AttuneError as exc:
        yield TurnFailed(session=ref.session_id, error=type(exc).__name__, message=str(exc), exit_code=exc.exit_code)
    except Exception as exc:  # a bug: the person gets a sentence, the log gets where, not what was said
        where = traceback.extract_tb(exc.__traceback__)[-1]
        log.error("turn failed: %s at %s:%s", type(exc).__name__, where.filename, where.lineno)
        yield TurnFailed(session=ref.session_id, error="internal", message=TURN_FAILED, exit_code=1)


def _run_turn(ctx: AppContext, ref: SessionRef, message: str) -> Iterator[Event]:
    started = time.perf_counter()
    ctx = replace(ctx, store=TurnWrites(ctx.store))  # the turn's writes wait for _finish, then commit as one
    t = _load(ctx, ref, message)
    yield TurnStarted(session_id=ref.session_id, turn=t.state.turns)
    yield from _screen(t)
    _understand(t)
    words = _mood_words(t.text, t.reading, bool(t.state.last_piece))
    if t.consent_answer:  # "no notes please" had read as low (-0.31) and the next piece was made for a low mood
        words = " ".join(c for c in clauses(t.text) if read(c).intent == "talk")  # the rest is the answer
    t.mood = _mood(ctx, t.state, words)
    ctx.store.add_mood(ref.patient_id, ref.session_id, "fused", t.mood)
    yield MoodInferred(valence=t.mood["valence"], arousal=t.mood["arousal"], label=t.mood["label"],
                       confidence=t.mood["confidence"], emotions=t.mood["emotions"], evidence=t.mood["evidence"])
    t.state.summary = _running_summary(t.earlier, t.state)
    over_time = (_now() - datetime.fromisoformat(t.state.started_at)) > timedelta(minutes=t.profile.session_minutes)
    decision = decide(t.state, t.policy_action, t.reading, allowed=set(t.profile.steps),
                      explore_before_offer=t.profile.explore_turns_before_offer, over_time=over_time)
    t.step = decision.step
    yield StepChosen(step=t.step, intent=t.reading.intent, reason=decision.reason)
    if t.step not in {"crisis", "block", "clarify", "stop_music", "close"}:
        t.passages = _retrieve(ctx, t)
        if t.passages:
            yield PassagesRetrieved(passages=[_source_brief(p) for p in t.passages])
    from .agent_step import wants_agent

    if t.step in AGENT_STEPS and wants_agent(ctx.settings, ctx.backend):
        yield from step_agent(t)
    else:
        yield from STEPS[t.step](t)
    yield from _finish(t, started)


def _finish(t: Turn, started: float) -> Iterator[Event]:
    ctx, ref, state = t.ctx, t.ref, t.state
    if t.fallback:
        state.fallbacks += 1
    del state.used_lines[:-40]
    reply = t.reply.strip()
    yield Reply(text=reply, fallback=t.fallback)
    state.step = NEXT_STATE.get(t.step, state.step if state.step != "new" else "checkin")
    state.pending = {"offer_music": "music", "listen_checkin": "another"}.get(t.step) or (
        f"clarify-{t.reading.intent}" if t.step == "clarify" else None)
    if t.step == "close":
        remember_session(ctx, ref, state, t.mood)
    ctx.store.append_turn(ref.session_id, ref.patient_id, "assistant", reply,
                          {"action": t.verdict.action, "step": t.step, "fallback": t.fallback,
                           "sources": [s["id"] for s in t.sources], "piece_id": t.music and t.music["piece_id"],
                           "seconds": round(time.perf_counter() - started, 3)})
    ctx.store.save_session_state(ref.session_id, ref.patient_id, state.model_dump(mode="json"),
                                 flagged=bool(state.flag_reason) and not state.flag_corrected, revision=t.revision)
    ctx.store.commit()  # the patient's message, its screening, mood, pieces, reply and state: one transaction
    mood_out = {k: t.mood[k] for k in ("valence", "arousal", "label", "confidence", "emotions")}
    yield TurnDone(reply=reply, action=t.verdict.action, mood=mood_out, music=_public_music(t.music),
                   sources=t.sources, session=ref.session_id, step=t.step, crisis=t.crisis,
                   crisis_cleared=t.crisis_cleared)


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


def remember_session(ctx: AppContext, ref: SessionRef, state: SessionState, mood: dict) -> None:
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
    """Run a turn to the end and return its final event; a failed turn raises its error here."""
    done = None
    for ev in events:
        if isinstance(ev, TurnDone):
            done = ev
        elif isinstance(ev, TurnFailed):
            raise from_failure(ev.error, ev.message)
    assert done is not None, "a turn always ends with TurnDone"
    return done
