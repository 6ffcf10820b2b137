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
           "open_question", "affirmation", "key_phrase", "question_group", "grounded", "unsaid_words"]

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


_HEDGES = set("""maybe perhaps probably seems still again lately recently things everything something much lots
you're you've you'd you'll""".split())
_MIRRORS = {"yourself": "myself", "yours": "mine"}  # free as words, but only after the person said the right side


def grounded(continuation: str, conversation: str) -> bool:
    """True when every content word of the model's reason comes from what the person said.

    A reason the person never gave ("maybe because the exam was expensive") is an invention, and so is one
    word changed: "your dad's surgery got moved to friday" came back as "... happened on Friday", and "low
    about yourself" from someone who never spoke of themselves. Words are compared by their first four
    letters; hedges ("maybe", "lately") are free, and "yourself" counts only when the person said "myself".
    (Until 2026-12-07, 60 % of the words sufficed, which let both through.)
    """
    said = _stems(conversation)
    lowered = continuation.lower()
    own = _stems(lowered) - {w[:4] for w in _HEDGES | set(_MIRRORS)}
    mirrored = {_MIRRORS[w][:4] for w in re.findall(r"[a-z']+", lowered) if w in _MIRRORS}
    return bool(own | mirrored) and own <= said and mirrored <= said


_CIRCUMSTANCE = re.compile(r"\b(?:after|since|due|on|at|in|from|when|while|because|about|with|of|over|during|for|as|"
                          r"following|thanks|now that|ever since)\b(.*)", re.IGNORECASE)


def unsaid_words(continuation: str, conversation: str) -> set[str]:
    """The words of a circumstance in the model's continuation that the person never said.

    A circumstance is what follows "after", "since", "on", "due" and the like: "tired after all those years"
    to someone who spoke of next week's surgery (with no "because", it had passed the reason check), "calm
    down on the couch", "probably due to the pain you're experiencing". The model's own words for the feeling
    ("and weighed down" for "heavy and flat") are what the frame asks of it and stay free. A word split by a
    hyphen ("low -key") counts as unsaid."""
    broken = set(re.findall(r"(?:^|\s)-(\w+)", continuation))
    m = _CIRCUMSTANCE.search(continuation)
    if not m:
        return broken
    said = _stems(conversation) | {w[:4] for w in re.findall(r"[a-zà-ÿ']{3}", conversation.lower())}
    free = _STOPWORDS | _HEDGES | {"all", "the", "you", "your", "you're", "lot", "right", "now", "today", "tonight",
                                  "moment", "little", "bit", "that", "this", "it's"}
    words = re.findall(r"[a-zà-ÿ']{3,}", m.group(1).lower())
    return broken | {w for w in words if w not in free and w[:4] not in said and _MIRRORS.get(w, "")[:4] not in said}


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


def _pick(options: list[str], seed: str, used: list[str] | None = None) -> str:
    """One of ``options``, chosen by a hash of ``seed``; lines already said this session come last."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    start = digest % len(options)
    ordered = options[start:] + options[:start]
    fresh = [o for o in ordered if not used or o not in used]
    return (fresh or ordered)[0]


def fallback_reflection(message: str, feeling: str, turn: int, reading=None, used: list[str] | None = None) -> str:
    """A reflection written by code: the feeling word plus, when the reader found one, the person's own words."""
    from .reader import as_noun_phrase, second_person

    about = second_person(reading.about) if reading is not None and reading.about else None
    if about and len(about.split()) > 16:
        about = None
    if about and reading.about_kind == "phrase":
        about = as_noun_phrase(about)
    seed = f"{message}|{turn}"
    if about and reading.about_kind == "phrase":
        options = [
            f"It sounds like {about} is on your mind, and you're feeling {feeling}.",
            f"It sounds like you're feeling {feeling}, with {about} on your mind.",
            f"It sounds like {about} matters a lot here, and it leaves you feeling {feeling}.",
        ]
    elif about:
        options = [
            f"It sounds like {about}, and that leaves you feeling {feeling}.",
            f"So {about}, and you're left feeling {feeling}.",
            f"It sounds like {about}, and you're feeling {feeling} with it.",
        ]
    else:
        options = [
            f"It sounds like you're feeling {feeling} right now.",
            f"It sounds like part of you feels {feeling} right now.",
            f"It seems you're feeling {feeling} at the moment.",
            f"You're feeling {feeling}, and it makes sense to take a moment with that.",
        ]
    if feeling == "this way":
        options = [o.replace(", and you're feeling this way.", ".").replace(" and it leaves you feeling this way", "")
                   for o in options]
    return _pick(options, seed, used)


_QUESTIONS = {
    "low": ["What has been the hardest part of it?", "What would help, even a little?",
            "Who or what has been a comfort lately?", "What do you most need for yourself?"],
    "tense": ["Where do you notice it most in your body?", "What tends to help you settle when it feels like this?",
              "What is on your mind most?", "What would feeling calmer look like for you today?"],
    "good": ["What's been the best part of it?", "What helped make that happen?",
             "How would you like to carry this feeling into the rest of your day?",
             "What kind of music fits this mood for you?"],
    "ok": ["What would you like to get from our time today?", "How would you like to feel by the end of this?",
           "What's been on your mind today?", "What kind of music do you usually enjoy?"],
}
_TOPIC_QUESTIONS = ["What about {about} weighs on you most?", "How long has {about} been on your mind?"]
_AFFIRMATIONS = [
    "It takes courage to put that into words.",
    "You're paying close attention to how you feel, and that matters.",
    "You've been coping with a lot, and you're still reaching out.",
    "Noticing this is a real step.",
    "It makes sense that you'd feel this way.",
]
_GOOD_AFFIRMATIONS = [
    "That's really good to hear.",
    "It's worth taking a moment to enjoy that.",
    "I'm glad you shared that with me.",
]


def question_group(valence: float, arousal: float) -> str:
    """Which kind of open question fits the mood: low, tense, good or ok."""
    if valence <= -0.15:
        return "tense" if arousal > 0.15 else "low"
    if valence >= 0.15:
        return "good"
    return "tense" if arousal > 0.3 else "ok"


def open_question(valence: float, arousal: float, turn: int, message: str, reading=None,
                  used: list[str] | None = None) -> str:
    """An open question that fits the mood and, for an unpleasant one, the topic the person named."""
    from .reader import second_person

    group = question_group(valence, arousal)
    options = list(_QUESTIONS[group])
    if group in {"low", "tense"} and reading is not None and reading.about and reading.about_kind == "phrase":
        about = second_person(reading.about)
        options = [q.format(about=about) for q in _TOPIC_QUESTIONS] + options
        fresh = [o for o in options[:2] if not used or o not in used]
        if fresh:
            return fresh[0]  # a question about what they named comes first
    return _pick(options, f"q|{message}|{turn}", used)


def affirmation(turn: int, message: str, valence: float = 0.0, used: list[str] | None = None) -> str:
    """A short affirmation; a pleasant mood gets a glad one, not "you've been coping with a lot"."""
    options = _GOOD_AFFIRMATIONS if valence >= 0.15 else _AFFIRMATIONS
    return _pick(options, f"a|{message}|{turn}", used)
