"""Reflections: the feeling the person's mood shows, and the reason in their own words.

Two frames alternate. A complex reflection links the feeling to what it is
about, using only the words the reader found in the message, turned to the
second person ("because your dog died last month", "about your exams"):
code writes it, since the small model invents reasons. A simple one starts
"It sounds like you're feeling <feeling>" and the model finishes the
sentence. Every model sentence must pass four checks or a code-worded one
replaces it: the output screen, a reason grounded in what the person said,
a feeling that agrees with their mood, and no repeat of an earlier line.
"""

from __future__ import annotations

import re
from typing import Iterator

from attune.common.errors import BackendUnreachable
from .events import Event, Notice, OutputChecked, ReplyDelta
from .reader import Reading, as_noun_phrase, second_person
from .reply import build_messages, fallback_reflection, finish_reflection, grounded, unsaid_words

__all__ = ["reflect", "feeling_word", "reason_sentence", "SYSTEM_TEMPLATE"]

SYSTEM_TEMPLATE = ("You are {name}, a {tone} AI companion for music and relaxation, not a therapist. "
                   "Reply with one short sentence that reflects the feeling and meaning of what the person "
                   "said, in your own words. Never give medical advice. [{canary}]")
_REASON_IN_MODEL = re.compile(r"\b(?:because|about)\b(.+)", re.IGNORECASE)
_FEELING_SAID = re.compile(r"\b(feel|feeling|felt|feels)\b", re.IGNORECASE)


def feeling_word(mood: dict) -> str | None:
    """The feeling to name, or None when the mood is too unclear to name one."""
    label = mood["label"]
    if mood["confidence"] < 0.2 or label in {"neutral", "okay", "steady", "hard to tell"}:
        return None
    return label


def reason_sentence(feeling: str, reading: Reading) -> str | None:
    """ "It sounds like you're feeling low because your dog died last month." from the person's words only."""
    about = reading.about
    if not about or _FEELING_SAID.search(about) or len(about.split()) > 16:
        return None  # "feeling low because you feel low" says nothing; a long clause reads badly
    words = second_person(about)
    if words and feeling.split()[0].lower() in words.lower() and " about " in f" {words} ":
        words = words.split(" about ", 1)[1]  # "you're anxious about a meeting tomorrow" -> "a meeting tomorrow"
        if len(words.split()) >= 2:
            return f"It sounds like you're feeling {feeling} about {words}."
    if not words or feeling.split()[0].lower() in words.lower():
        return None
    words = words[0].lower() + words[1:] if not words[:2].isupper() else words
    if reading.about_kind == "phrase":
        return f"It sounds like you're feeling {feeling} about {as_noun_phrase(words)}."
    return f"It sounds like you're feeling {feeling} because {words}."


_TWO_SIDES = re.compile(r"^(?P<a>[^.!?]*?)[,;]?\s+(?:but|though|yet)\s+(?P<b>[^.!?]*)[.!?]*$", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"^(?:i|i'm|im|i've|i'd|my|we|we're|we've)\b", re.IGNORECASE)


def two_sided_sentence(text: str) -> str | None:
    """ "I miss her, but I'm glad we had so many years together" -> both sides, in the person's words:
    "It sounds like you miss her, and at the same time you're glad you had so many years together." """
    m = _TWO_SIDES.match(text.strip())
    if not m:
        return None
    a, b = (m.group(k).strip(" ,;") for k in ("a", "b"))
    if not all(_FIRST_PERSON.match(x) and 2 <= len(x.split()) <= 14 for x in (a, b)):
        return None  # "she's ok now, but I can't unwind": one side is not about them; the reason is after the but
    return f"It sounds like {second_person(a)}, and at the same time {second_person(b)}."


def _against_mood(sentence: str, mood: dict) -> bool:
    """True when the model's sentence reads clearly pleasant for an unpleasant mood, or the reverse."""
    from attune.tools.mood import infer_text

    v = mood["valence"]
    if abs(v) < 0.25:
        return False
    said = infer_text(sentence)
    return said.confidence >= 0.3 and said.valence * v < 0 and abs(said.valence) >= 0.3


def reflect(ctx, state, profile, history: list[dict], text: str, mood: dict, reading: Reading,
            passages: list[dict]) -> Iterator[Event | tuple[str, bool]]:
    """Stream a one-sentence reflection; the last item is (sentence, used_fallback)."""
    feeling = feeling_word(mood)
    opening = f"It sounds like you're feeling {feeling}" if feeling else "It sounds like"
    recent = " ".join([h["content"] for h in history if h["role"] == "user"][-3:] + [text])
    # odd turns (the check-in among them) link the feeling to the person's own reason
    sentence = two_sided_sentence(text) or (reason_sentence(feeling, reading) if feeling and state.turns % 2 == 1
                                            else None)
    if sentence and sentence not in state.used_lines:
        state.code_worded += 1
        state.used_lines.append(sentence)
        yield ReplyDelta(sentence)
        yield (sentence, False)
        return
    system = SYSTEM_TEMPLATE.format(name=profile.persona.name, tone=profile.persona.tone, canary=ctx.canary)
    earlier = [h["content"] for h in history if h["role"] == "user"][-2:]
    summary = (state.summary + " " if state.summary else "") + (
        "They said earlier: " + " / ".join(e[:200] for e in earlier) if earlier else "")
    messages = build_messages(system, [], text, summary=summary.strip())
    parts: list[str] = []
    try:
        for piece in ctx.backend.stream(messages, prefill=opening, max_new_tokens=40,
                                        stop=["\n", ". ", "? ", "! ", ", but"]):
            parts.append(piece)
    except BackendUnreachable as exc:
        yield Notice(str(exc))
    continuation = "".join(parts)
    sentence = finish_reflection(opening, continuation, allow_empty=feeling is not None)
    reason = _REASON_IN_MODEL.search(continuation)
    if sentence and reason and not grounded(reason.group(1), recent):
        sentence = None  # a reason the person never gave ("... about yourself")
    if sentence and unsaid_words(continuation, recent):
        sentence = None  # a circumstance they never gave: "tired after all those years", "calm on the couch"
    if sentence and (sentence in state.used_lines or _against_mood(sentence, mood)):
        sentence = None
    if sentence:
        verdict = ctx.output_guard.screen(sentence, canary=ctx.canary,
                                          allowed_source_ids={p["id"] for p in passages})
        yield OutputChecked(ok=verdict.ok, problems=list(verdict.problems))
        if not verdict.ok:
            sentence = None
    if sentence is None:
        fb = fallback_reflection(text, feeling or "this way", state.turns, reading, used=state.used_lines)
        state.used_lines.append(fb)
        yield ReplyDelta(fb)
        yield (fb, True)
        return
    state.used_lines.append(sentence)
    yield ReplyDelta(sentence)
    yield (sentence, False)
