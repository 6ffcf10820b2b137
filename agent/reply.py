"""Replies: the model chooses words inside a frame that code sets and checks.

For the small embedded model the frame is tight (PITFALLS.md): one system
line, two example exchanges, and the assistant turn started by code with
the feeling the mood tool found ("It sounds like you're feeling ..."); the
continuation is cut at the first sentence end or a ", but" clause. Code then
adds at most one open question or an affirmation, so questions never stack
and reflections outnumber questions. A reply that fails its checks (empty,
rambling, a question, an unsafe or leaking text) is replaced by a fallback
that still reflects what the person said, in varied wording.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["build_messages", "finish_reflection", "fallback_reflection",
           "open_question", "affirmation", "key_phrase"]

EXAMPLES = [
    ("I've been so stressed with exams, I can't switch off at night.",
     "It sounds like you're feeling wound up, maybe because the exams follow you into the night."),
    ("My dog died last week and the house feels empty.",
     "It sounds like you're feeling lonely, maybe because the house is so quiet without your dog."),
]
_STOPWORDS = set("""the and that this with have has had was were are you your for from not but just
about they them their there what when then than been being into over some more very really feel
feeling feels it's i'm i've don't can't because maybe like""".split())
MAX_REFLECTION_WORDS = 32




def build_messages(system: str, history: list[dict], message: str, summary: str = "",
                   passages: list[dict] | None = None) -> list[dict]:
    """Chat messages for one reflective reply (system, examples, recent history, message)."""
    sys_text = system
    if summary:
        sys_text += f"\nEarlier in this conversation: {summary}"
    if passages:
        sys_text += "\nGuidance you may draw on: " + " ".join(
            f"[{p['id']}] {p['text'][:220]}" for p in passages[:2])
    messages = [{"role": "system", "content": sys_text}]
    for user, assistant in EXAMPLES:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    for turn in history[-4:]:
        messages.append({"role": turn["role"], "content": turn["content"][:400]})
    messages.append({"role": "user", "content": message[:1500]})
    return messages


_SENTENCE_END = re.compile(r"[.!?](\s|$)")
_BAD = re.compile(r"(dear |sincerely|as an ai language model|<\||\bi am a (human|person|therapist)\b|"
                  r"\bsubject:|\bregards\b|https?://)", re.IGNORECASE)


def _stems(text: str) -> set[str]:
    return {w[:4] for w in re.findall(r"[a-zà-ÿ']{4,}", text.lower()) if w not in _STOPWORDS}


def grounded(continuation: str, conversation: str) -> bool:
    """True when most of the model's content words come from what the person said.

    A reason the person never gave ("maybe because the exam was expensive") is
    an invention; at least half of the reason's content words (by their first
    four letters) must appear in the recent conversation.
    """
    said = _stems(conversation)
    own = _stems(continuation)
    return bool(own) and len(own & said) / len(own) >= 0.5


def because_clause(message: str) -> str | None:
    """The person's own words as a reason, turned to the second person ("your rent is due")."""
    found = key_phrase(message)
    if not found:
        return None
    kind, words = found
    return f"of {words}" if kind == "topic" else words


def finish_reflection(prefill: str, continuation: str, allow_empty: bool = False) -> str | None:
    """The reflection sentence, or None when the model's words do not pass."""
    text = continuation.replace("\n", " ")
    # cut where the small model starts talking about itself or adds a second thought
    for cut in (", but", " but ", "?", "!", ", and i", ", and i'm", ", so i", " and i'm", ", which i"):
        idx = text.lower().find(cut)
        if idx != -1:
            text = text[:idx]
    match = _SENTENCE_END.search(text)
    if match:
        text = text[:match.start()]
    text = text.strip().rstrip(",;:-")
    sentence = f"{prefill}{(' ' if text and not text.startswith((',', ' ')) else '')}{text}".strip()
    sentence = re.sub(r"\s+", " ", sentence).strip()
    words = sentence.split()
    if (len(text.split()) < 1 and not allow_empty) or len(words) > MAX_REFLECTION_WORDS or _BAD.search(sentence):
        return None
    if re.search(r"\b(\w+) \1 \1\b", sentence.lower()):  # a stuck loop
        return None
    return sentence.rstrip(".") + "."


_GREETING = re.compile(r"^\s*(hi|hello|hey|hiya|good (morning|evening|afternoon)|ok(ay)?|so|well|um+|yeah)\b[\s,.!]*",
                       re.IGNORECASE)
_CLAUSE = re.compile(r"\b(i|i'm|i am|i've|i have|i can't|i cannot|i keep|i feel|my)\b([^.,!?;]{3,70})", re.IGNORECASE)
_ABOUT = re.compile(r"\b(?:about|with|because of|since|over)\s+([^.,!?;]{3,50})", re.IGNORECASE)
_PRONOUNS = [(r"\bmy\b", "your"), (r"\bme\b", "you"), (r"\bi'm\b", "you're"), (r"\bi've\b", "you've"),
             (r"\bi\b", "you"), (r"\bmyself\b", "yourself"), (r"\bam\b", "are"), (r"\bmine\b", "yours"),
             (r"\bwas\b", "were")]


def _second_person(text: str) -> str:
    out = " " + text.strip() + " "
    for pat, rep in _PRONOUNS:
        out = re.sub(pat, rep, out, flags=re.IGNORECASE)
    return out.strip()


def key_phrase(message: str) -> tuple[str, str] | None:
    """The person's own words to reflect back: ("topic", noun phrase) or ("clause", clause)."""
    text = _GREETING.sub("", message).strip().rstrip(".!?")
    words = text.split()
    if 3 <= len(words) <= 12 and re.search(r"\b(i|i'm|my|me|i've)\b", text, re.I) and not re.search(r"[?]", message):
        return "clause", _second_person(text[0].lower() + text[1:])
    m = _ABOUT.search(text)
    if m and not re.match(r"(anything|everything|something|nothing|it|that|this|you|them|him|her)\b", m.group(1).strip(), re.I):
        return "topic", _second_person(" ".join(m.group(1).split()[:8]))
    m = _CLAUSE.search(text)
    if m:
        clause = " ".join((m.group(1) + m.group(2)).split()[:10])
        return "clause", _second_person(clause)
    return None


def _pick(options: list[str], seed: str) -> str:
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return options[digest % len(options)]


def fallback_reflection(message: str, feeling: str, turn: int) -> str:
    """A reflection written by code: the feeling word plus the person's own words."""
    found = key_phrase(message)
    seed = f"{message}|{turn}"
    if found and found[0] == "topic":
        topic = found[1]
        options = [
            f"It sounds like {topic} is weighing on you, and you're feeling {feeling}.",
            f"It sounds like you're feeling {feeling}, with {topic} on your mind.",
            f"I'm hearing that {topic} matters a lot here, and it leaves you feeling {feeling}.",
            f"So {topic} is part of what's going on for you, and you're feeling {feeling}.",
        ]
    elif found:
        clause = found[1]
        options = [
            f"It sounds like {clause}, and that leaves you feeling {feeling}.",
            f"So {clause}, and you're left feeling {feeling}.",
            f"I'm hearing that {clause}, and you're feeling {feeling} with it.",
            f"It sounds like you're feeling {feeling}, especially as {clause}.",
        ]
    else:
        options = [
            f"It sounds like you're feeling {feeling} right now.",
            f"I'm hearing something {feeling} in what you wrote.",
            f"It seems you're feeling {feeling} at the moment.",
            f"You're feeling {feeling}, and it makes sense to take a moment with that.",
        ]
    return _pick(options, seed)


_QUESTIONS = {
    "low": ["What has been the hardest part of it?", "What would help, even a little, right now?",
            "When did you last feel a bit lighter?", "What do you most need at the moment?"],
    "tense": ["Where do you notice it most in your body?", "What tends to help you settle when it feels like this?",
              "What is on your mind most right now?", "What would feeling calmer look like for you today?"],
    "ok": ["What would you like to get from our time today?", "What has been going well lately?",
           "How would you like to feel by the end of this?", "What kind of music do you usually enjoy?"],
}
_AFFIRMATIONS = [
    "It takes courage to put that into words.",
    "You're paying close attention to how you feel, and that matters.",
    "You've been coping with a lot, and you're still reaching out.",
    "Noticing this is a real step.",
    "It makes sense that you'd feel this way.",
]


def open_question(valence: float, arousal: float, turn: int, message: str) -> str:
    group = "low" if valence < -0.2 and arousal <= 0.2 else ("tense" if arousal > 0.2 and valence < 0.2 else "ok")
    return _pick(_QUESTIONS[group], f"q|{message}|{turn}")


def affirmation(turn: int, message: str) -> str:
    return _pick(_AFFIRMATIONS, f"a|{message}|{turn}")
