"""Mood from a message's words: VADER plus a trained head on MiniLM embeddings.

How the parts combine (all on the [-1, 1] scale):

* valence = w * VADER compound + (1 - w) * head valence, w = 0.2 when VADER
  found lexicon words, 0.5 in a clause of three words or fewer (or emoji),
  0.6 when a negator precedes one of them (the embedding barely hears "not"),
  0 when VADER found nothing;
* arousal = head arousal, pushed outward by intensifiers ("extremely") and
  exclamation marks, pulled in by hedges ("a bit"); a negated clause has its
  head arousal weighted 0.3 against the flipped word's 0.7;
* contrast: "X but Y" / "X, however Y" / "X yet Y" / "X, though Y" weigh the
  later clause 0.75 and the earlier 0.25 (in speech the afterthought is what
  matters now); "although X, Y" weighs the main clause Y 0.75;
* negation: a negated feeling word ("not stressed", "not happy") moves
  arousal the opposite way to the word's own arousal (`_AROUSAL_WORDS`, half
  strength): "not stressed" reads as settled, "not calm" as activated, and
  "not happy" as flat. "can't stop worrying" is not a negation.
* emotions mix the head's classifier with the distribution implied by the
  final (valence, arousal) point; the point gets more say when the classifier
  contradicts the valence sign (typically under negation).

Not handled: sarcasm, other languages (confidence drops for mostly
non-Latin text), reported speech ("she said she was furious").
"""

from __future__ import annotations

import re
import threading
from typing import Optional

from .model import EMOTIONS, PROTOTYPES, Evidence, MoodEstimate, clip, emotions_from_va, neutral_estimate

__all__ = ["infer_text", "split_contrast"]

LATER = 0.75  # weight of the clause after a contrast marker
VADER_WEIGHT = 0.2  # VADER's share of valence when it knows a word (held-out split: 0.45 cost 2 points)
VADER_NEGATED = 0.6  # ... and when a negator precedes one: the embedding barely hears "not"
VADER_SHORT = 0.5  # ... and in a clause of three words or fewer
VADER_EMOJI = 0.8  # ... and when emoji are the only feeling signs it knows in the clause
MAX_CHARS = 4000  # longer messages are cut; the embedding reads 256 word pieces anyway

_CONTRAST_MID = re.compile(r"\s*(?:,|;)?\s*\b(but|however|yet)\b\s*,?\s*", re.I)
_CONCESSIVE_LEAD = re.compile(r"^\s*(although|though|even though|even if|while)\b\s*(.+?),\s*(.+)$", re.I | re.S)
_CONCESSIVE_MID = re.compile(r"^(.+?),?\s+\b(although|even though|though)\b\s+(.+)$", re.I | re.S)
_NOT_NEGATION = re.compile(r"\b(?:can't|cant|cannot|can not|couldn't|couldnt|won't) (?:stop|help)\b", re.I)

# Arousal of common feeling-word stems, [-1, 1]; used only to reverse a negated word.
_AROUSAL_WORDS = {
    "stress": 0.7, "worr": 0.6, "anxi": 0.7, "panic": 0.9, "nervous": 0.6, "scare": 0.7,
    "afraid": 0.6, "fright": 0.7, "terrif": 0.8, "tense": 0.6, "angr": 0.7, "mad": 0.6,
    "furious": 0.9, "annoy": 0.5, "irritat": 0.5, "upset": 0.5, "rush": 0.5, "hurr": 0.5,
    "excit": 0.7, "thrill": 0.7, "happy": 0.4, "joy": 0.4, "energ": 0.5, "restless": 0.6,
    "agitat": 0.7, "overwhelm": 0.6, "calm": -0.6, "relax": -0.6, "tired": -0.7,
    "sleepy": -0.7, "exhaust": -0.8, "rest": -0.5, "peace": -0.5, "settled": -0.5,
    "bored": -0.4, "sad": -0.3, "drained": -0.7, "content": -0.4, "chill": -0.5,
}
_TOKEN = re.compile(r"[\w']+|[^\w\s]", re.U)

_VADER = None
_VADER_LOCK = threading.Lock()


def _vader():
    """The VADER analyser (its lexicon loads from disk on first use)."""
    global _VADER
    if _VADER is None:
        with _VADER_LOCK:
            if _VADER is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _VADER = SentimentIntensityAnalyzer()
    return _VADER


def split_contrast(text: str) -> list[tuple[str, float, Optional[str]]]:
    """Split a message into (clause, weight, marker) parts; weights sum to 1.

    >>> split_contrast("tired but hopeful")
    [('tired', 0.25, None), ('hopeful', 0.75, 'but')]
    """
    m = _CONCESSIVE_LEAD.match(text)
    if m and m.group(2).strip() and m.group(3).strip():
        return [(m.group(2).strip(), 1 - LATER, None), (m.group(3).strip(), LATER, m.group(1).lower())]
    m = _CONCESSIVE_MID.match(text)
    if m and m.group(1).strip() and m.group(3).strip():
        return [(m.group(1).strip(), 1 - LATER, None), (m.group(3).strip(), LATER, m.group(2).lower())]
    parts = _CONTRAST_MID.split(text)
    # re.split with one group: [clause, marker, clause, marker, clause ...]
    clauses = [(parts[0], None)] + [(parts[i + 1], parts[i].lower()) for i in range(1, len(parts) - 1, 2)]
    clauses = [(c.strip(" ,;"), mk) for c, mk in clauses]
    clauses = [(c, mk) for c, mk in clauses if re.search(r"\w", c)]
    if len(clauses) <= 1:
        return [(text, 1.0, None)]
    # the last clause after a contrast marker carries LATER; the rest share the remainder
    rest = round((1 - LATER) / (len(clauses) - 1), 4)
    return [(c, LATER if i == len(clauses) - 1 else rest, mk) for i, (c, mk) in enumerate(clauses)]


def _negated_at(words: list[str], i: int) -> bool:
    from vaderSentiment.vaderSentiment import NEGATE

    window = words[max(0, i - 3):i]
    return any(x in NEGATE or x.endswith("n't") or x in ("no", "never", "without") for x in window)


def _lexicon_hits(clause: str) -> list[tuple[str, float, bool]]:
    """(word, lexicon valence on [-1, 1], negated?) for each VADER lexicon word in the clause."""
    an = _vader()
    words = [w.lower() for w in _TOKEN.findall(clause)]
    return [(w, an.lexicon[w] / 4.0, _negated_at(words, i)) for i, w in enumerate(words) if w in an.lexicon]


def _negated_arousal(clause: str) -> list[tuple[str, float]]:
    """(word, word arousal) for each negated feeling word in the clause."""
    words = [w.lower() for w in _TOKEN.findall(clause)]
    out = []
    for i, w in enumerate(words):
        for stem, a in _AROUSAL_WORDS.items():
            if (w == stem or (len(stem) >= 4 and w.startswith(stem))) and _negated_at(words, i):
                out.append((w, a))
                break
    return out


def _modifiers(clause: str) -> tuple[list[str], list[str]]:
    """(intensifiers, hedges) found in the clause, from VADER's booster list."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT

    low = " " + " ".join(w.lower() for w in _TOKEN.findall(clause)) + " "
    up, down = [], []
    for phrase, incr in BOOSTER_DICT.items():
        if f" {phrase} " in low:
            (up if incr > 0 else down).append(phrase)
    for hedge in ("a bit", "a little", "a little bit", "not very", "slightly"):
        if f" {hedge} " in low and hedge not in down:
            down.append(hedge)
    return up, down


def _latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    return sum(1 for c in letters if c.isascii()) / len(letters)


def infer_text(text: Optional[str], head=None) -> MoodEstimate:
    """Estimate mood from one message (``head``: another fitted ``TextHead``, for held-out scoring).

    Empty or whitespace-only text gives a neutral estimate with confidence 0.
    The first call loads the embedding model and fits the head (about 1-2 s);
    later calls take a few milliseconds.
    """
    if text is None or not text.strip():
        return neutral_estimate("no words to read")
    text = text.strip()[:MAX_CHARS]
    from .encoder import encode
    from .head import get_head

    parts = split_contrast(text)
    head_out = (head or get_head()).predict([c for c, _, _ in parts], encode([c for c, _, _ in parts]))
    an = _vader()
    evidence: list[Evidence] = []
    v_total = a_total = 0.0
    probs = {e: 0.0 for e in EMOTIONS}
    any_hits = False
    disagreement = 0.0
    for (clause, w, marker), head in zip(parts, head_out):
        plain = _NOT_NEGATION.sub("keep", clause)  # "can't stop worrying" -> "keep worrying"
        compound = an.polarity_scores(plain)["compound"]
        hits = _lexicon_hits(plain)
        neg_words = _negated_arousal(plain)
        negated = any(n for _, _, n in hits) or bool(neg_words)
        emoji = [(ch, an.emojis[ch]) for ch in dict.fromkeys(plain) if ch in an.emojis]
        said = bool(hits) or compound != 0.0  # VADER also reads emoji through their descriptions
        any_hits = any_hits or said
        short = len(re.findall(r"\w+", clause)) <= 3  # "😊", "so happy": the embedding has little to read
        wv = (VADER_NEGATED if negated else VADER_SHORT if short else VADER_WEIGHT) if said else 0.0
        if emoji and not hits:
            wv = VADER_EMOJI  # the encoder reads emoji as unknown tokens; VADER knows their meaning
        v = wv * compound + (1 - wv) * head.valence
        a = head.arousal
        if neg_words:
            # a negated word pulls arousal against its own direction, at 0.7 against the head's 0.3
            flipped = -0.5 * sum(x for _, x in neg_words) / len(neg_words)
            a = 0.3 * head.arousal + 0.7 * flipped
            evidence.append(Evidence(
                source="text",
                detail="negated " + ", ".join(repr(x) for x, _ in neg_words) + (f" in {clause!r}" if len(parts) > 1 else ""),
                arousal_delta=round(flipped, 3),
                weight=round(0.5 * w, 3),
            ))
        up, down = _modifiers(clause)
        bangs = min(clause.count("!"), 3)
        scale_a = (1.15 if up else 1.0) * (0.8 if down else 1.0)
        a = clip(a * scale_a + (0.05 * bangs if a >= -0.2 else 0.0))
        v = clip(v * (0.85 if down else 1.0) * (1.1 if up else 1.0))
        if said:
            disagreement = max(disagreement, abs(compound - head.valence))
        for ch, desc in emoji:
            evidence.append(Evidence(source="vader", detail=f"emoji {ch} ({desc})", weight=round(w * wv, 3)))
        where = f" in {clause!r}" if len(parts) > 1 else ""
        for word, lex, neg in hits:
            evidence.append(Evidence(
                source="vader",
                detail=f"{'negated ' if neg else ''}{word!r}{where}",
                valence_delta=round(-0.74 * lex if neg else lex, 3),  # VADER flips negated words by -0.74
                weight=round(w * wv, 3),
            ))
        if up or down or bangs:
            evidence.append(Evidence(
                source="text",
                detail=", ".join(
                    [f"intensifier {p!r}" for p in up] + [f"hedge {p!r}" for p in down]
                    + ([f"{bangs} exclamation mark(s)"] if bangs else [])
                ) + where,
                arousal_delta=round(a - head.arousal, 3),
                weight=w,
            ))
        top = max(head.probs, key=head.probs.get)
        evidence.append(Evidence(
            source="head",
            detail=f"embedding head{where}: nearest feeling {top} (p={head.probs[top]:.2f})",
            valence_delta=round(head.valence, 3),
            arousal_delta=round(head.arousal, 3),
            weight=round(w * (1 - wv), 3),
        ))
        if marker:
            evidence.append(Evidence(
                source="text",
                detail=f"contrast {marker!r}: {clause!r} weighted {w:.2f}",
                valence_delta=round(v, 3),
                arousal_delta=round(a, 3),
                weight=w,
            ))
        v_total += w * v
        a_total += w * a
        # under negation the classifier tends to name the negated feeling ("not happy" -> joy);
        # let the clause's own (valence, arousal) point speak for it instead
        clause_probs = head.probs
        if negated:
            pt = emotions_from_va(v, a)
            clause_probs = {e: 0.3 * head.probs[e] + 0.7 * pt[e] for e in EMOTIONS}
        for e, p in clause_probs.items():
            probs[e] += w * p

    valence, arousal = clip(v_total), clip(a_total)
    # classifier's implied valence; if it contradicts the final sign, trust the point more
    implied = sum(p * PROTOTYPES[e][0] for e, p in probs.items())
    mix = 0.65 if implied * valence >= -0.02 else 0.3
    point = emotions_from_va(valence, arousal)
    emotions = {e: mix * probs[e] + (1 - mix) * point[e] for e in EMOTIONS}

    n_words = len(re.findall(r"\w+", text))
    confidence = 0.2 + 0.3 * min(1.0, n_words / 6) + (0.2 if any_hits else 0.0) + 0.25 * max(probs.values())
    confidence -= 0.25 * min(1.0, disagreement / 1.5)
    latin = _latin_share(text)
    if latin < 0.5:
        confidence *= 0.3
        evidence.append(Evidence(source="text", detail="mostly non-Latin script: the models read English best", weight=0.0))
    confidence = clip(confidence, 0.05, 0.9)
    return MoodEstimate(
        valence=round(valence, 4),
        arousal=round(arousal, 4),
        emotions=emotions,
        confidence=round(confidence, 3),
        evidence=evidence,
    )
