"""The reader: what a message is doing and asking for, learned from examples.

One call, ``read(text)``, returns a :class:`Reading`:

* the **intent**: asking for music, feedback on the last piece, yes, no,
  asking why, stopping the music, saying goodbye, or talking;
* the **changes** asked for, per musical dimension (tempo, energy, mode or
  brightness, loudness, length) with direction and size, and instruments to
  leave out or to use;
* a stated **goal** (sleep, calm, focus, energy, lift, comfort);
* what the feeling is **about**, in the person's own words (a clause or a
  phrase taken from the message, never written by code);
* its **confidence** (the intent's probability); below ``CONFIDENT`` the
  session asks rather than acts.

How: the local MiniLM sentence embedding beside character 2-4-gram TF-IDF
(which carries other languages and typos that the English-centred encoder
blurs), then logistic regressions trained on the authored examples in
``agent/data/reader/*.jsonl`` (several thousand utterances in six languages,
written for Attune). Instrument names are a closed vocabulary and are looked
up (``instruments.yaml``); whether one is to be dropped or used is learned,
for each part of the message that names one when that part is clear ("quita
el piano y ponle violín"). The direction models also see their features a
second time where a turning word stands (``stance.yaml``: "too", "trop",
"zu", "demasiado"), so "too slow" can ask for faster while "slower" asks
for slower, in every language the examples cover.
``overrides.yaml`` holds the few phrase rules that win over the classifier,
each with examples that must and must not match (run as tests).

The fitted model is cached on disk by a hash of the data, so a new process
loads it in well under a second; the first fit takes about half a minute.
Not handled: sarcasm, and messages mixing several requests with different
targets ("faster but the one before was better").
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from attune.common.data import load_yaml

from .amounts import Amounts, amounts

__all__ = ["Reading", "Example", "Reader", "read", "get_reader", "load_examples", "piece_probability", "INTENTS",
           "DIMENSIONS", "GOALS", "CONFIDENT", "second_person"]

INTENTS = ("music", "feedback", "yes", "no", "why", "stop", "bye", "talk")
DIMENSIONS = ("tempo", "energy", "mode", "loudness", "length")
GOAL_NAMES = ("sleep", "calm", "focus", "energy", "lift", "comfort")
#: goal -> (target valence, target arousal, words for it)
GOALS: dict[str, tuple[float, float, str]] = {
    "sleep": (0.1, -0.9, "ready for sleep"),
    "calm": (0.3, -0.6, "calmer"),
    "focus": (0.3, 0.0, "focused and steady"),
    "energy": (0.6, 0.6, "more energised"),
    "lift": (0.5, 0.1, "a little lighter"),
    "comfort": (0.35, -0.35, "a little more at ease"),
}
CONFIDENT = 0.5  # below this intent probability, an action is asked about, not taken
SURE_BYE = 0.8  # ending the session is final: "ok. I think I'll try calling her tomorrow" read as a goodbye at 0.64
CHANGE_P = 0.55  # a dimension's direction is read when its probability passes this (0.5 read "a bit loud for me, turn it down" as less energy too, at 0.53)
PART_DROP_MARGIN = 0.3  # a part of the message decides drop or use for its own instruments when this far from 0.5
SEGMENT_P = 0.8  # a part of the message ("too quiet") sets a direction this surely ("slow it down" read quieter at 0.66)
CLEAR_CLAUSE_P = 0.7  # an unsure message takes the intent of a clause this clear
PHRASE_P = 0.75  # what the feeling is about is called a phrase (not a clause) only this surely
Intent = Literal["music", "feedback", "yes", "no", "why", "stop", "bye", "talk"]
_ACTIONS = {"music", "feedback", "stop", "bye"}  # intents that make something happen


def piece_probability(probs: dict[str, float]) -> float:
    """A request and feedback both lead to a piece, so their probabilities pool."""
    return probs.get("music", 0.0) + probs.get("feedback", 0.0)


class Example(BaseModel):
    """One authored training utterance (a line of ``agent/data/reader/*.jsonl``)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    lang: Literal["en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr"]
    intent: Intent
    tempo: int = Field(0, ge=-1, le=1)
    energy: int = Field(0, ge=-1, le=1)
    mode: int = Field(0, ge=-1, le=1)
    loudness: int = Field(0, ge=-1, le=1)
    length: int = Field(0, ge=-1, le=1)
    size: int = Field(1, ge=1, le=2)
    drop: list[str] = Field(default_factory=list)
    use: list[str] = Field(default_factory=list)
    goal: Optional[Literal["sleep", "calm", "focus", "energy", "lift", "comfort"]] = None
    about: Optional[str] = None
    about_kind: Optional[Literal["clause", "phrase"]] = None

    @model_validator(mode="after")
    def _about_is_quoted(self) -> "Example":
        if self.about is not None and self.about not in self.text:
            raise ValueError(f"'about' must be words of the text itself: {self.about!r}")
        return self


class Reading(BaseModel):
    """What one message is doing and asking for."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent = "talk"
    confidence: float = Field(0.0, ge=0.0, le=1.0)  # probability of the intent
    changes: dict[str, int] = Field(default_factory=dict)  # dimension -> -2..2 (2: a big change)
    drop: list[str] = Field(default_factory=list)  # composer instrument names to leave out
    use: list[str] = Field(default_factory=list)  # composer instrument names to bring in
    seconds: Optional[float] = None  # a length named for the piece ("like 15 minutes"), agent/amounts.py
    bpm: Optional[float] = None  # a tempo named for the piece ("around 70 bpm")
    goal: Optional[str] = None
    about: Optional[str] = None  # the person's own words
    about_kind: Optional[Literal["clause", "phrase"]] = None
    feeling: Optional[str] = None  # in a request or feedback, the clauses that talk about the person
    rule: Optional[str] = None  # the override rule that decided, if one did
    probs: dict[str, float] = Field(default_factory=dict)

    @field_validator("changes")
    @classmethod
    def _dims(cls, v: dict[str, int]) -> dict[str, int]:
        unknown = set(v) - set(DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown dimensions {sorted(unknown)}")
        return {k: int(x) for k, x in v.items() if x}

    @property
    def sure(self) -> bool:
        """Confident enough to act on. A request and feedback both lead to a piece, so they pool."""
        if self.rule is not None:
            return True
        if self.intent in {"music", "feedback"}:
            return piece_probability(self.probs) >= CONFIDENT
        return self.confidence >= (SURE_BYE if self.intent == "bye" else CONFIDENT)

    @property
    def acts(self) -> bool:
        """True for intents that make something happen (a piece, silence, the end of the session)."""
        return self.intent in _ACTIONS

    @property
    def wants_music(self) -> bool:
        """Asking for a piece now: a request, or feedback that asks for a change."""
        return self.intent == "music" or (self.intent == "feedback" and self.asks_change)

    @property
    def asks_change(self) -> bool:
        """True when the message asks for something about the music to change."""
        return bool(self.changes or self.drop or self.use or self.seconds or self.bpm)

    def goal_target(self) -> Optional[tuple[float, float, str]]:
        return GOALS.get(self.goal) if self.goal else None


# ---------------------------------------------------------------- data


def _data_dir():
    return resources.files("attune.agent").joinpath("data/reader")


def load_examples() -> list[Example]:
    """Every authored example, validated; a bad line names its file and line number."""
    rows: list[Example] = []
    for item in sorted(_data_dir().iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".jsonl"):
            continue
        for n, line in enumerate(item.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(Example.model_validate(json.loads(line)))
            except (ValueError, json.JSONDecodeError) as exc:
                raise ValueError(f"{item.name} line {n}: {exc}") from None
    return rows


@dataclass(frozen=True)
class Override:
    """A phrase rule that wins over the classifier: precise, with its examples."""

    name: str
    intent: str
    pattern: re.Pattern[str]
    examples: tuple[str, ...]
    near_misses: tuple[str, ...]


_OVERRIDE_KEYS = {"name", "intent", "whole_message", "examples", "near_misses", "why"}


_STANCE_KEYS = {"words", "after", "examples", "near_misses"}
_HOLD_KEYS = {"words", "examples", "near_misses"}
_OPENERS = r"(?:(?:but|and|just|though|yet|pero|y|mais|et|aber|und|ma|e|mas|maar|en)\s+)?"


def _word_lists(name: str, keys: set[str]) -> list[dict]:
    """Each language's entry of a word file (``stance.yaml``, ``hold.yaml``), checked: words and examples."""
    raw = load_yaml(_data_dir().joinpath(name).read_text("utf-8"))
    for lang, entry in raw.items():
        unknown = set(entry) - keys
        if unknown or not entry.get("words") or not entry.get("examples"):
            raise ValueError(f"{name} {lang}: needs words and examples, unknown keys {sorted(unknown)}")
    return list(raw.values())


def _alternation(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def stance_pattern() -> re.Pattern[str]:
    """Any word that turns what follows into its opposite ("too slow", "moins fort"), from ``stance.yaml``."""
    words = []
    for entry in _word_lists("stance.yaml", _STANCE_KEYS):
        words.extend(re.escape(w.lower()).replace(r"\ ", r"\s+") + r"(?!\w)(?=\s+\w)" for w in entry["words"])
        words.extend(r"(?<=\w\s)" + re.escape(w.lower()) + r"(?!\w)" for w in entry.get("after", []))
    return re.compile(r"(?<!\w)(?:" + _alternation(words) + r")", re.IGNORECASE)


@lru_cache(maxsize=1)
def hold_pattern() -> re.Pattern[str]:
    """A part that opens with a holding word ("but not brighter"), from ``hold.yaml``."""
    words = [re.escape(str(w).lower()).replace(r"\ ", r"\s+")
             for entry in _word_lists("hold.yaml", _HOLD_KEYS) for w in entry["words"]]
    return re.compile(r"^\s*" + _OPENERS + r"(?:" + _alternation(words) + r")(?!\w)\s+\w", re.IGNORECASE)


def holds(part: str) -> bool:
    """Whether ``part`` holds a quality ("but not brighter") rather than asking for it or its opposite."""
    return bool(hold_pattern().match(part)) and not stance_pattern().search(part)


def stance(texts: list[str]) -> np.ndarray:
    """1.0 for each text holding a turning word, else 0.0 (a column for the direction models' features)."""
    pattern = stance_pattern()
    return np.array([1.0 if pattern.search(t) else 0.0 for t in texts], dtype=np.float32)


def _turned(dense: np.ndarray, sparse, flags: np.ndarray):
    """The direction models' features: the text's features, then the same again where a turning word stands.

    A linear model over the plain features cannot learn that "lent" asks for slower alone and for faster after
    "trop"; over these it can (the second half learns the turn)."""
    from scipy.sparse import diags, hstack

    return (np.hstack([dense, dense * flags[:, None]]),
            hstack([sparse, diags(flags) @ sparse]).tocsr())


@lru_cache(maxsize=1)
def load_overrides() -> tuple[Override, ...]:
    raw = load_yaml(_data_dir().joinpath("overrides.yaml").read_text("utf-8")) or []
    out = []
    for rule in raw:
        unknown = set(rule) - _OVERRIDE_KEYS
        if unknown:
            raise ValueError(f"override {rule.get('name')!r}: unknown keys {sorted(unknown)}")
        if rule["intent"] not in INTENTS:
            raise ValueError(f"override {rule['name']!r}: unknown intent {rule['intent']!r}")
        if not rule.get("examples"):
            raise ValueError(f"override {rule['name']!r} needs examples")
        pattern = re.compile(r"^\s*(?:" + rule["whole_message"] + r")\s*[.!?,;:)\s]*$", re.IGNORECASE)
        out.append(Override(rule["name"], rule["intent"], pattern, tuple(rule["examples"]),
                            tuple(rule.get("near_misses", []))))
    return tuple(out)


@lru_cache(maxsize=1)
def _instrument_words() -> tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...]:
    raw = load_yaml(_data_dir().joinpath("instruments.yaml").read_text("utf-8"))
    out = []
    for canonical, entry in raw.items():
        for word in entry["words"]:
            out.append((re.compile(rf"(?<!\w){re.escape(word.lower())}(?!\w)"), canonical, tuple(entry["names"])))
    # longest words first, so "electric piano" wins over "piano"
    out.sort(key=lambda t: -len(t[0].pattern))
    return tuple(out)


def instruments_named(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(family word, composer names) for each instrument the text names, longest match first."""
    low = text.lower()
    found: list[tuple[str, tuple[str, ...]]] = []
    taken: list[tuple[int, int]] = []
    for rx, canonical, names in _instrument_words():
        for m in rx.finditer(low):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            if canonical not in [c for c, _ in found]:
                found.append((canonical, names))
    return found


# ---------------------------------------------------------------- clauses and grammar

_CLAUSE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\s*[,:]\s*(?=(?:and|but|so|because|cause|since|as|which)\b)|"
                           r"\s+(?=(?:because|cause|since)\b)|\s*[,–—-]\s+|\s+(?:and|but|so)\s+(?=(?:i|my|i'm|im|we|it|he|she|they)\b)",
                           re.IGNORECASE)
_LEAD = re.compile(r"^(?:(?:hi|hello|hey|hiya|so|well|um+|uh+|ok(?:ay)?|yeah|yes|no|and|but|because|cause|since|as|"
                   r"honestly|tbh|basically|just|anyway)\b[\s,.!]*)+", re.IGNORECASE)


#: "my sister and I had a fight" is one subject, not two clauses (the reflection had kept "I had a fight ...
#: now she's not answering" and turned it into "you had a huge fight", with "she" nobody)
_JOINT_SUBJECT = re.compile(r"\b((?:my|his|her|our|their|the)\s+[\w'-]+)\s+and\s+(i|me)\b|"
                            r"(?:^|(?<=[.!?,;]\s))(me|i)\s+and\s+((?:my|his|her|our|their|the)\b)", re.IGNORECASE)
_KEEP = "\ue000"  # stands for the space of a joint subject's "and" while the message is cut


def clauses(text: str) -> list[str]:
    """The message cut into clauses, leading fillers and conjunctions removed."""
    out = []
    kept = _JOINT_SUBJECT.sub(lambda m: f"{m.group(1) or m.group(3)}{_KEEP}and{_KEEP}{m.group(2) or m.group(4)}",
                              text.strip())
    for part in _CLAUSE_SPLIT.split(kept):
        part = (part or "").replace(_KEEP, " ")
        part = _LEAD.sub("", part.strip()).strip(" ,.;:!?-–—")
        if len(part.split()) >= 2:
            out.append(part)
    return out


_PRONOUNS = [
    (r"\bi am\b", "you are"), (r"\bi'm\b", "you're"), (r"\bim\b", "you're"), (r"\bi was\b", "you were"),
    (r"\bi've\b", "you've"), (r"\bive\b", "you've"), (r"\bi'd\b", "you'd"), (r"\bi'll\b", "you'll"),
    (r"\bi\b", "you"), (r"\bmy\b", "your"), (r"\bmyself\b", "yourself"), (r"\bmine\b", "yours"),
    (r"\bme\b", "you"), (r"\bwe're\b", "you're"), (r"\bour\b", "your"), (r"\bus\b", "you"),
    (r"\bwe\b", "you"), (r"\bwas i\b", "were you"), (r"\bam i\b", "are you"),
]
_SWAP = re.compile("|".join(f"(?P<g{i}>{p})" for i, (p, _) in enumerate(_PRONOUNS)), re.IGNORECASE)


def second_person(words: str) -> str:
    """The person's words turned to "you": "my dog died" -> "your dog died", "I was" -> "you were".

    One pass, so a replaced word is never replaced again; "was" and "am" change
    only after "I" ("my dog was ill" stays "your dog was ill").
    """
    def swap(m: re.Match[str]) -> str:
        for i, (_, rep) in enumerate(_PRONOUNS):
            if m.group(f"g{i}") is not None:
                return rep
        return m.group(0)

    out = _SWAP.sub(swap, words.strip())
    return re.sub(r"\s+", " ", out).strip(" ,.;:!?")


_DETERMINERS = frozenset("the a an your his her their our its this that these those some any every each no all "
                         "my me you him them us it one two three both another".split())


def as_noun_phrase(words: str) -> str:
    """A phrase that can follow "about": "exam tomorrow" -> "the exam tomorrow"; "work", "your exam" unchanged."""
    parts = words.split()
    if len(parts) >= 2 and parts[0].lower() not in _DETERMINERS and not parts[0][:1].isdigit() \
            and not parts[0].lower().endswith(("ing", "'s")):
        return "the " + words  # "worrying about money", "mum's birthday" read well without it
    return words


# ---------------------------------------------------------------- the model

DATA_VERSION = "reader-7"  # bump to rebuild every cached model after a change of features


class _Linear:
    """A fitted logistic regression kept as plain arrays (scikit-learn's checks cost ~0.5 ms a call)."""

    def __init__(self, model, n_dense: int) -> None:
        coef = model.coef_.astype(np.float32)
        self.classes = [c.item() if hasattr(c, "item") else c for c in model.classes_]
        self.wd = coef[:, :n_dense].T.copy()
        self.ws = coef[:, n_dense:].T.copy()
        self.b = model.intercept_.astype(np.float32)

    def proba(self, dense: np.ndarray, sparse) -> np.ndarray:
        z = dense @ self.wd + np.asarray(sparse @ self.ws) + self.b
        if z.shape[1] == 1:  # binary: one column of log-odds
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.stack([1 - p, p], axis=1)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def _fit(x, y, c: float = 4.0, balanced: bool = True):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced" if balanced else None).fit(x, y)


class Reader:
    """Fitted classifiers over [embedding | char n-grams]; ``read(text)`` gives a Reading."""

    def __init__(self, examples: list[Example]) -> None:
        from scipy.sparse import csr_matrix, hstack

        from attune.knowledge.embedding import embed_cached
        from attune.knowledge.ngrams import CharNgrams

        texts = [e.text for e in examples]
        self.n_train = len(examples)
        self.vectorizer = CharNgrams.fit(texts, (2, 4), min_df=2, max_features=40000)
        dense = embed_cached(texts, "reader-texts")
        sparse = self.vectorizer.transform(texts)
        x = hstack([csr_matrix(dense), sparse]).tocsr()
        n = dense.shape[1]
        self.intent = _Linear(_fit(x, [e.intent for e in examples]), n)
        # directions are learned from every row: a "talk" row that says "I feel slow" teaches "no change"
        td, ts = _turned(dense, sparse, stance(texts))
        tx = hstack([csr_matrix(td), ts]).tocsr()
        self.dims = {d: _Linear(_fit(tx, [getattr(e, d) for e in examples]), 2 * n) for d in DIMENSIONS}
        changed = [i for i, e in enumerate(examples) if any(getattr(e, d) for d in DIMENSIONS)]
        self.big = _Linear(_fit(x[changed], [examples[i].size == 2 for i in changed], c=2.0), n)
        self.goal = _Linear(_fit(x, [e.goal or "none" for e in examples]), n)
        named = [i for i, e in enumerate(examples) if e.drop or e.use or instruments_named(e.text)]
        self.drops = _Linear(_fit(x[named], [bool(examples[i].drop) for i in named], c=2.0), n)
        # what the feeling is about: which clause holds the person's reason
        rows, labels, kinds, kind_labels = [], [], [], []
        for e in examples:
            for cl in clauses(e.text):
                rows.append(cl)
                labels.append(bool(e.about) and _overlap(cl, e.about) >= 0.6)
            if e.about and e.about_kind:
                kinds.append(e.about)
                kind_labels.append(e.about_kind)
        cdense = embed_cached(rows, "reader-clauses")
        cx = hstack([csr_matrix(cdense), self.vectorizer.transform(rows)]).tocsr()
        self.about = _Linear(_fit(cx, labels, c=2.0), n)
        kx = hstack([csr_matrix(embed_cached(kinds, "reader-kinds")), self.vectorizer.transform(kinds)]).tocsr()
        self.kind = _Linear(_fit(kx, kind_labels, c=2.0), n)

    # -- reading

    def _features(self, texts: list[str]):
        from attune.knowledge.embedding import embed

        return embed(texts), self.vectorizer.transform(texts)

    def read(self, text: str) -> Reading:
        text = (text or "").strip()
        if not text:
            return Reading(intent="talk", confidence=0.0)
        text = text[:2000]  # the reader needs the gist; the safety screen reads everything
        parts = clauses(text)
        all_dense, all_sparse = self._features([text] + parts)  # one encoder call for message and clauses
        dense, sparse = all_dense[:1], all_sparse[0]
        p_intent = self.intent.proba(dense, sparse)[0]
        probs = {c: float(p) for c, p in zip(self.intent.classes, p_intent)}
        intent = max(probs, key=probs.get)
        confidence = probs[intent]
        clause_p = self.intent.proba(all_dense[1:], all_sparse[1:]) if len(parts) > 1 else None
        if confidence < CONFIDENT and piece_probability(probs) < CONFIDENT and clause_p is not None:
            row = self._clear_clause(clause_p)
            if row is not None:  # the clear clause speaks for the message
                probs = {c: float(p) for c, p in zip(self.intent.classes, row)}
                intent = max(probs, key=probs.get)
                confidence = probs[intent]
        rule = None
        for o in load_overrides():
            if o.pattern.match(text):
                intent, confidence, rule = o.intent, max(confidence, 0.9), o.name
                break
        big = float(self.big.proba(dense, sparse)[0][1]) >= 0.5
        changes = {}
        asks_piece = intent in {"music", "feedback"}
        segments = change_segments(text) if asks_piece else []
        seg_dense, seg_sparse = self._features(segments) if len(segments) > 1 else (None, None)
        turned_dense, turned_sparse = _turned(dense, sparse, stance([text]))
        seg_turned = _turned(seg_dense, seg_sparse, stance(segments)) if seg_dense is not None else None
        holding = {part for part in segments if holds(part)} if len(segments) > 1 else set()
        for d, model in self.dims.items():
            p = dict(zip(model.classes, model.proba(turned_dense, turned_sparse)[0]))
            best = max(p, key=p.get)
            direction = int(best) if best != 0 and p[best] >= CHANGE_P else 0
            if seg_turned is not None:  # one request per segment, as the training rows are
                said, held = [], []
                for part, row in zip(segments, model.proba(*seg_turned)):
                    ps = dict(zip(model.classes, row))
                    b = max(ps, key=ps.get)
                    if b != 0 and ps[b] >= SEGMENT_P:
                        (held if part in holding else said).append((ps[b], int(b)))
                if said:
                    direction = max(said)[1]
                elif held:  # "faster, but not brighter": only the held part names the key
                    direction = 0
            if direction:
                changes[d] = direction * (2 if big else 1)
        gp = dict(zip(self.goal.classes, self.goal.proba(dense, sparse)[0]))
        goal = max(gp, key=gp.get)
        goal = goal if goal != "none" and gp[goal] >= 0.5 else None
        drop: list[str] = []
        use: list[str] = []
        named = instruments_named(text)
        if named:
            whole = float(self.drops.proba(dense, sparse)[0][1])
            p_drop = {canonical: whole for canonical, _ in named}
            in_parts = [instruments_named(part) for part in segments] if seg_dense is not None else []
            if sum(1 for found in in_parts if found) > 1:  # "no piano, add a cello": each part decides for its own
                for found, row in zip(in_parts, self.drops.proba(seg_dense, seg_sparse)):
                    if abs(row[1] - 0.5) >= PART_DROP_MARGIN:  # a bare "violins" after "without the cellos" says nothing
                        p_drop.update((canonical, float(row[1])) for canonical, _ in found)
            for canonical, names in named:
                (drop if p_drop[canonical] >= 0.5 else use).extend(n for n in names if n not in drop + use)
        asks = intent in {"music", "feedback"}
        if not asks:
            changes, drop, use = {}, [], []  # "I feel so slow today" asks nothing of the music
        named_amounts = amounts(text) if asks else Amounts()  # "I walked for 40 minutes" names no length
        about, kind = self._about(parts, all_dense[1:], all_sparse[1:], _after_contrast(text, parts))
        feeling = self._feeling(parts, clause_p, intent) if intent != "talk" else None
        return Reading(intent=intent, confidence=round(confidence, 3), changes=changes, drop=drop, use=use,
                       seconds=named_amounts.seconds, bpm=named_amounts.bpm, goal=goal, about=about,
                       about_kind=kind, feeling=feeling, rule=rule,
                       probs={k: round(v, 3) for k, v in probs.items()})

    def _about(self, parts: list[str], dense: np.ndarray, sparse,
               first: int = 0) -> tuple[Optional[str], Optional[str]]:
        """The clause that says what the feeling is about (from clause ``first`` on), and whether it is a
        clause or a phrase."""
        if len(parts) <= first:
            return None, None
        p = self.about.proba(dense, sparse)[:, 1]
        p[:first] = 0.0  # "she's ok now, but I can't unwind": the reason is never what the "but" turned from
        best = int(np.argmax(p))
        if p[best] < 0.5:
            return None, None
        words = parts[best]
        kp = dict(zip(self.kind.classes, self.kind.proba(dense[best:best + 1], sparse[best])[0]))
        # "about <phrase>" needs a phrase; "because <clause>" reads well for a clause and tolerably for most
        # phrases, so a doubtful one is a clause ("my sister's in hospital": phrase 0.6, and it has a verb)
        return words, "phrase" if kp.get("phrase", 0.0) >= PHRASE_P else "clause"


    def _clear_clause(self, clause_p: np.ndarray) -> Optional[np.ndarray]:
        """The intent probabilities of a clause that clearly asks something, for an unsure message:
        "I don't really know. maybe some music" reads as a why at 0.44 whole, its second clause as music at 0.77."""
        i, j = np.unravel_index(int(np.argmax(clause_p)), clause_p.shape)
        # only a clause that asks for something with content: "por favor" or "I'd like that" read as a
        # stop or a yes on their own, and must not speak for "Con flauta, por favor"
        clear = self.intent.classes[j] in {"music", "feedback", "why"} and clause_p[i, j] >= CLEAR_CLAUSE_P
        return clause_p[i] if clear else None

    def _feeling(self, parts: list[str], p: Optional[np.ndarray], intent: str = "music") -> Optional[str]:
        """The clauses of a many-clause message that talk about the person, not ask for something.

        "Play me something calm? I'm a bit wound up after work." asks for music in one clause and
        says how they are in the other: the mood is read from the second. In a request, every clause
        but the asking ones counts: a situation ("didn't get the flat", "I GOT THE PART in the musical")
        reads to the clause model as anything from feedback to stop, and is still how the person is.
        In feedback, only clauses that read as talk count: the others describe the piece.
        """
        if p is None:
            return None
        classes = list(self.intent.classes)
        if intent == "music":
            music = classes.index("music")
            said = [c for c, row in zip(parts, p) if row[music] < 0.5]
        else:
            talk = classes.index("talk")
            said = [c for c, row in zip(parts, p) if int(np.argmax(row)) == talk and row[talk] >= 0.5]
        return " ".join(said) or None


_CONTRAST = re.compile(r"\b(?:but|though|although|however|yet|pero|mais|aber|ma|mas)\b", re.IGNORECASE)


_SEGMENT_SPLIT = re.compile(
    r"[.!?;,]+\s*|\s+(?:and|but|also|plus|then|though|y|pero|también|et|mais|aussi|und|aber|auch|e|ma|anche|mas|"
    r"também|en|maar|ook|i|ale|też|ve|ama|da|ayrıca)\s+", re.IGNORECASE)


def change_segments(text: str) -> list[str]:
    """The parts of a request or feedback that each ask one thing: "that was nice but kind of too quiet, and a bit
    longer next time" -> "that was nice", "kind of too quiet", "a bit longer next time".

    The direction models learned from rows that mostly ask one change; read whole, a message asking two read
    "too quiet" as quieter (0.98) beside "a bit longer" (2026-12-07, blind set 11: 24 of 140 reversed).
    """
    return [p.strip() for p in _SEGMENT_SPLIT.split(text) if p and p.strip()]


def _after_contrast(text: str, parts: list[str]) -> int:
    """The index of the first clause after the message's last "but" (0 when it has none)."""
    marks = [m.start() for m in _CONTRAST.finditer(text)]
    if not marks:
        return 0
    for i, part in enumerate(parts):
        if text.find(part) > marks[-1]:
            return i
    return 0  # the "but" sits inside the last clause: no clause is after it


def _overlap(clause: str, about: str) -> float:
    a = set(re.findall(r"\w+", clause.lower()))
    b = set(re.findall(r"\w+", about.lower()))
    return len(a & b) / max(1, len(a))


# ---------------------------------------------------------------- one per process, cached on disk

_READER: Optional[Reader] = None
_LOCK = threading.Lock()


def get_reader() -> Reader:
    """The process-wide reader: loaded from the disk cache, or fitted once and cached."""
    global _READER
    if _READER is None:
        with _LOCK:
            if _READER is None:
                from attune.knowledge.embedding import cached_fit

                examples = load_examples()
                turning = stance_pattern().pattern  # the turning words are features of the direction models
                key = DATA_VERSION + "\n" + turning + "\n" + "\n".join(e.model_dump_json() for e in examples)
                _READER = cached_fit("reader", key, lambda: Reader(examples))
    return _READER


def read(text: str) -> Reading:
    """Read one message (see the module docstring)."""
    return get_reader().read(text)
