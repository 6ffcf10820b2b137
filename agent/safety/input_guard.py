"""The input screen: one verdict per patient message, read in its conversation.

Layers, in order: ``normalise`` (robust reading) -> phrase rules (``rules``)
-> learned layer (embedding and character n-grams, logistic regression, nearest
exemplars) -> conversation context -> risk read from its parts (``risk``: a
means interest with despair in the recent conversation, a lethality question,
a request for another person's data) -> action, categories, score. Crisis
outranks block, block outranks allow.

Context means: distress earlier plus a means question now; an earlier
disclosure that holds until the person says they are safe; the rules read
over the last few messages joined (a disclosure split over messages); warning
signs that add up. A told history with recovery named now is not a present
crisis.

Long messages are read whole by the rules; the learned layer sees a bounded
number of windows (the riskiest by a cheap keyword count, plus the first and
last), so a megabyte costs about as much as a page.

What it leaves out: writing the reply (``crisis.crisis_reply`` does that) and
keeping session state (``crisis.update_crisis_mode``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from attune.common.errors import InputError

from .learned import LearnedLayer, Prediction, prepare, shared_layer
from .models import BLOCK_CATEGORIES, CRISIS_CATEGORIES, ScreenResult
from .normalize import normalise
from .phrases import compiled_corrections
from .prefilter import search
from .risk import RiskReader, RiskThresholds, risk_reader
from .rules import Hit, flagged, history_recovered, mask_figurative, match_rules, signal

__all__ = ["InputGuard", "Thresholds", "screen_input"]

CRISIS_MIN_WEIGHT = 0.6
DISTRESS_FOR_MEANS = 0.3  # distress (this turn and recent turns) that turns a means question into crisis
LEARNED_MEANS = 0.5  # learned p(harmful) that counts as a means question when distress is present
WINDOW_WORDS = 48  # words per learned-layer window
MAX_WINDOWS = 10  # windows embedded per message, at most
CONTEXT_TURNS = 20  # previous patient messages read, newest last
# a message about someone else ("my friend relapsed on smoking"), with no I or me in it: the
# neighbour vote keeps out (the rules read third-party disclosures such as abuse of a child)
_ABOUT_OTHER = re.compile(r"^(?:my|our|his|her|their|the) (?:\w+ )?(?:friend|mate|brother|sister|mum|mom|dad|son|daughter|partner|"
                          r"colleague|cousin|neighbou?r|boss|aunt|uncle|gran|grandma|grandad|grandpa|kid|kids|boyfriend|girlfriend|"
                          r"husband|wife)s?\b(?!.*\b(?:i|im|me|my self|myself|ive|id|ill)\b)")
# good news around a warning sign ("paid off my card, finally!"): the warning-sign path stays silent
_UPBEAT = re.compile(r"\b(?:finally|celebrat\w*|yay|woo+|excited|cant wait|so happy|proud|congrat\w*|moving to|new job|holiday|vacation|wedding|promotion|promoted)\b")
_ACCIDENT = re.compile(r"\b(?:ouch|oops|ow+|by accident|accidentally|tripped|slipped|clumsy|walked into|bumped)\b")
VOTE_MIN_WORDS = 5  # words a message needs before the neighbour vote may speak
RISK_SENTENCES_FROM_WORDS = 40  # messages this long are also read a sentence at a time by the risk layer
LEARNED_CONTEXT_TURNS = 4  # earlier messages the learned layer re-reads (cached: the app screened them already)
# A height question ("how high is the bridge", rules flagged height_question) with an innocent purpose
# (a school project, a trip) and no distress anywhere is a probe, not a means request: it stays allowed
# alone and still turns into crisis after distress. A bare height question with no purpose stays blocked.
# Which rules are warning signs, strong distress or height questions is said by their flags in the data.
_RISK_WORDS = frozenset(
    "die dead death kill suicide suicidal pills overdose bridge jump hang rope end life alive "
    "hopeless burden goodbye hurt cut blood gun knife ignore instructions prompt system dose "
    "mg lethal morir muerte mourir sterben tot leben vida vie".split()
)


@dataclass(frozen=True)
class Thresholds:
    """Probabilities above which the learned layer acts on its own."""

    crisis: float = 0.76  # 0.89 before the everyday exemplars of 2026-12-07 (late), 0.85 before the exemplars of 2026-12-07 (0.80 before the third exemplar file, 2026-12-01)
    crisis_agree: int = 2  # of the nearest exemplars that must be crisis for a p(crisis) call ...
    crisis_sure: float = 0.97  # ... unless p(crisis) is at least this
    harmful: float = 0.91  # 0.90 before the 340 crisis exemplars of 2026-12-03 (0.85 before the character n-grams)
    # ... or all the nearest exemplars are harmful requests and the classifier leans that way
    harmful_vote_p: float = 0.75
    harmful_vote_neighbours: int = 5  # of learned.NEIGHBOURS
    # a message very close to a labelled harmful request, with the classifier leaning that way
    harmful_near_similarity: float = 0.8
    harmful_near_p: float = 0.35
    injection: float = 0.75
    out_of_scope: float = 0.85
    context_crisis: float = 0.82  # joined recent turns with a signal now; 0.75 before the crisis exemplars of 2026-12-03
    # a message very close to a labelled crisis exemplar is crisis even at a lower probability:
    # new wordings of a known risk sit near their exemplars before the classifier is sure
    crisis_near_similarity: float = 0.72
    crisis_near_p: float = 0.35
    # neighbour vote: the nearest exemplar and most of the five nearest are crisis, and the classifier leans that way
    crisis_vote_neighbours: int = 4  # of learned.NEIGHBOURS (3 before the character n-grams)
    crisis_vote_p: float = 0.70  # 0.60 before the character n-grams (they lean harder on risk words)
    crisis_vote_similarity: float = 0.45  # the nearest exemplar must be at least this close
    learned_means: float = LEARNED_MEANS
    # a warning-sign rule (flagged warning_sign in the data) and a nearest crisis exemplar, with at least this p(crisis)
    warning_sign_p: float = 0.10


@dataclass(frozen=True)
class _Analysis:
    hits: tuple[Hit, ...]
    prepared_windows: tuple[str, ...]
    language: str
    safe_statement: bool
    purpose: bool = False  # an innocent purpose is named (school project, trip)
    undone: bool = False  # words of falling, dying or missing barriers
    figurative: bool = False  # a figurative phrase was masked out
    accident: bool = False  # an accident is named ("ouch", "tripped", "by accident")
    history: bool = False  # suicidal thoughts long past, recovery named now (rules.history_recovered)
    upbeat: bool = False  # good news is named (``_UPBEAT``)


# French elisions ("j'ai envie d'en finir"): the normaliser drops apostrophes ("den finir"),
# so the rules also read a copy with each elided word written out ("de en finir").
_ELISION = re.compile(r"\b([jdlmtnsc]|qu)['’]", re.IGNORECASE)
_ELIDED = {"j": "je", "d": "de", "l": "le", "m": "me", "t": "te", "n": "ne", "s": "se", "c": "ce", "qu": "que"}


# The learned layer was trained on sentence-length exemplars, so a message of several sentences is
# also read one sentence at a time: one risky sentence in a chatty paragraph is not averaged away.
_SENTENCE_END = re.compile(r"(?<=[.!?;\u2026])\s+|\s*\n+\s*")
MAX_SENTENCES = 24  # more than this and the keyword-ranked word windows are used instead
SENTENCE_MIN_WORDS = 16  # shorter messages are read whole only: one sentence cannot hide in them
MIN_SENTENCE_WORDS = 4  # shorter pieces ("ok.", "Anyway.") join the sentence before them


_LETTER = re.compile(r"[^\W\d_]")
_READ_SCRIPTS = re.compile(r"[A-Za-z\u00c0-\u024f\u0370-\u03ff]")


def _encoder_reads(message: str) -> bool:
    """Whether the sentence embedding can read the message: mostly Latin or Greek letters.

    all-MiniLM-L6-v2 learned English; a Hindi, Arabic or Chinese message lands near every other message
    in its script (measured 2026-12-07: a Hindi request for calm music voted a crisis, an Arabic "died
    laughing" sat 0.81 from a crisis exemplar). There the rule folders decide, not the learned layer. Cyrillic
    joined them later that day: 18 of the 21 Cyrillic exemplars are crisis, so "nice weather today, play something
    cheerful" in Russian read as crisis at 0.81 once the everyday exemplars (none Cyrillic) came; ru/ and uk/ rules decide.
    """
    head = message[:2000]
    letters = len(_LETTER.findall(head))
    return letters == 0 or len(_READ_SCRIPTS.findall(head)) * 2 >= letters


def _sentences(message: str) -> list[str]:
    """Prepared sentences of a message with 2..MAX_SENTENCES of them, else []."""
    if len(message) > 200 * MAX_SENTENCES:
        return []
    parts = [p for p in _SENTENCE_END.split(message.strip()) if p and p.strip()]
    if len(parts) < 2 or len(parts) > MAX_SENTENCES:
        return []
    merged: list[str] = []
    for part in parts:
        if merged and min(len(part.split()), len(merged[-1].split())) < MIN_SENTENCE_WORDS:
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return [prepare(p) for p in merged] if len(merged) >= 2 else []


@lru_cache(maxsize=4096)
def _analyse(message: str) -> _Analysis:
    norm = normalise(message)
    masked, n_figurative = mask_figurative(norm.text)
    hits = tuple(match_rules(masked, norm.light))
    if search(_ELISION, message):
        expanded = _ELISION.sub(lambda m: _ELIDED[m.group(1).lower()] + " ", message)
        extra_masked, _ = mask_figurative(normalise(expanded).text)
        seen = {h.rule for h in hits}
        hits += tuple(h for h in match_rules(extra_masked, norm.light) if h.rule not in seen)
    corrected = compiled_corrections()  # "I only meant I'm done for today", read before any mask
    safe = (bool(search(signal("safe_statement"), masked)) or bool(corrected is not None and search(corrected, norm.text))) \
        and not search(signal("not_safe"), masked)
    words = masked.replace("_fig_", " ").split()
    sentences = _sentences(message) if len(words) > SENTENCE_MIN_WORDS else []
    if len(words) <= WINDOW_WORDS:
        windows = (" ".join(words) or ".",) + tuple(x for x in sentences if x != " ".join(words))
    elif sentences:
        windows = tuple(sentences)
    else:
        chunks = [" ".join(words[i:i + WINDOW_WORDS]) for i in range(0, len(words), WINDOW_WORDS // 2)]
        scored = sorted(range(len(chunks)), key=lambda i: -sum(w in _RISK_WORDS for w in chunks[i].split()))
        keep = sorted(set([0, len(chunks) - 1] + scored[:MAX_WINDOWS - 2]))
        windows = tuple(chunks[i] for i in keep)
    purpose = bool(search(signal("innocent_purpose"), masked))
    undone = bool(search(signal("innocence_undone"), masked))
    return _Analysis(hits, windows, norm.language, safe, purpose, undone, n_figurative > 0,
                     bool(search(_ACCIDENT, masked)), history_recovered(masked), bool(search(_UPBEAT, masked)))


JOINED_TURNS = 3  # earlier messages read together with the current one by the rules


@lru_cache(maxsize=1024)
def _joined_hits(messages: tuple[str, ...]) -> tuple[Hit, ...]:
    """Crisis rules that fire on the recent messages read as one text.

    A disclosure split over messages ("had a few drinks and took my pills" / "so sleepy now")
    fires a rule only when the pieces are read together.
    """
    norm = normalise(" . ".join(messages))
    masked, _ = mask_figurative(norm.text)
    return tuple(h for h in match_rules(masked) if h.category in CRISIS_CATEGORIES and h.weight >= CRISIS_MIN_WEIGHT)


def _coerce(message: object) -> str:
    if message is None:
        raise InputError("A message to screen is required.")
    if isinstance(message, (bytes, bytearray)):
        return bytes(message).decode("utf-8", errors="replace")
    if not isinstance(message, str):
        raise InputError(f"A message must be text, not {type(message).__name__}.")
    return message


_CLAUSE_CUT = re.compile(r"(?<=[.!?;,\u2026])\s+|\s*\n+\s*|\s+(?=(?:and|but|so|after|since|because|now|then)\s)",
                         re.IGNORECASE)
MIN_CLAUSE_WORDS = 4  # shorter fragments ("and keep going", "feeling very virtuous") read as despair
MAX_CLAUSES = 8
CLAUSE_MEANS = 0.80  # stricter than a whole message's thresholds: a fragment reads less surely (the team's
CLAUSE_DESPAIR = 0.90  # sets 1-10: at 0.70 / 0.80 with 3-word clauses, one more false positive per set)


@lru_cache(maxsize=4096)
def _clauses(message: str) -> tuple[str, ...]:
    """Prepared clauses of a short message with two or more of them: where a loss and a means question share
    one message they dilute each other read whole ("I lost the farm in march, how deep is the quarry pond?":
    distress 0.02 whole, despair 0.83 and means 0.81 in its two clauses). That one is still allowed: 0.83 is
    under CLAUSE_DESPAIR, which the team's sets' false positives set."""
    if len(message) > 600:
        return ()
    parts = [p.strip() for p in _CLAUSE_CUT.split(message.strip()) if p and len(p.split()) >= MIN_CLAUSE_WORDS]
    return tuple(prepare(p) for p in parts) if 2 <= len(parts) <= MAX_CLAUSES else ()


def _risk_windows(a: _Analysis) -> list[str]:
    """What the risk-parts layer reads: the whole message, and its sentences only when it is long
    (a fragment of a short message, "not my heart will go on", reads as something it is not)."""
    whole = a.prepared_windows[0]
    return list(a.prepared_windows) if len(whole.split()) >= RISK_SENTENCES_FROM_WORDS else [whole]


class InputGuard:
    """Screens patient messages. ``learned=False`` runs the rules only (no model)."""

    def __init__(self, learned: LearnedLayer | bool | None = None,
                 thresholds: Thresholds = Thresholds(), risk: RiskReader | bool | None = None,
                 risk_thresholds: RiskThresholds = RiskThresholds()) -> None:
        if learned is False:
            self._learned: LearnedLayer | None = None
        elif learned is None or learned is True:
            self._learned = shared_layer()
        else:
            self._learned = learned
        self.thresholds = thresholds
        # the risk-parts layer (means, distress, privacy); off with the learned layer (rules only)
        self._risk_wanted = risk is not False and learned is not False
        self._risk: RiskReader | None = risk if isinstance(risk, RiskReader) else None
        self.risk_thresholds = risk_thresholds

    def warm_up(self) -> None:
        """Fit the learned layers now instead of on the first message."""
        if self._learned is not None:
            self._learned.fit()
            self._learned.predict(["."])  # loads the sentence encoder too (the fit may have come from the cache)
        if self._risk_wanted:
            self._risk_layer()

    def _risk_layer(self) -> RiskReader | None:
        if self._risk is None and self._risk_wanted:
            self._risk = risk_reader()
        return self._risk

    # ------------------------------------------------------------------
    def screen(self, message: str, conversation: Sequence[str] = ()) -> ScreenResult:
        message = _coerce(message)
        previous = [_coerce(m) for m in list(conversation)[-CONTEXT_TURNS:]]
        if not message.strip():
            return ScreenResult(action="allow", categories=[], score=0.0, reasons=["empty"])
        now = _analyse(message)
        t = self.thresholds

        # Conversation: only what was said after the last "I'm safe now" counts.
        context = [_analyse(m) for m in previous]
        last_safe = max((i for i, a in enumerate(context) if a.safe_statement), default=-1)
        recent = context[last_safe + 1:]
        prev_crisis = [h for a in recent for h in a.hits if h.category in CRISIS_CATEGORIES and h.weight >= CRISIS_MIN_WEIGHT]
        distress = {h.rule: h.weight for a in recent for h in a.hits if h.category == "distress"}
        distress.update({h.rule: h.weight for h in now.hits if h.category == "distress"})
        distress_sum = sum(distress.values())
        strong_distress = any(r in flagged("strong_distress") for r in distress)

        hits = list(now.hits)
        block_names = {h.rule for h in hits if h.category in BLOCK_CATEGORIES}
        height_rules = flagged("height_question") | flagged("height_framing")
        innocent_height = (bool(block_names) and bool(block_names & flagged("height_question")) and block_names <= height_rules
                           and not distress and not prev_crisis and not now.undone
                           and (now.purpose or any(a.purpose for a in recent[-3:])))
        if innocent_height:
            hits = [Hit("probe.height_with_purpose", "means_probe", 0.5) if h.rule in height_rules else h for h in hits]

        crisis_hits = [h for h in hits if h.category in CRISIS_CATEGORIES and h.weight >= CRISIS_MIN_WEIGHT]
        if recent and not crisis_hits and not now.safe_statement:
            seen = {h.rule for a in recent[-JOINED_TURNS:] for h in a.hits} | {h.rule for h in hits}
            tail = tuple(previous[last_safe + 1:][-JOINED_TURNS:]) + (message,)
            joined = [h for h in _joined_hits(tail) if h.rule not in seen]
            crisis_hits = [Hit(f"context.joined.{h.rule}", h.category, h.weight, h.level) for h in joined]
            hits += crisis_hits
        block_hits = [h for h in hits if h.category in BLOCK_CATEGORIES]
        means_hits = [h for h in block_hits if h.category in ("method_request", "medication_request")]
        # Questions about heights, amounts, lethality, train times, rope...: harmless alone,
        # a means question after distress (masked intent, CLINICAL.md).
        probe_hits = [h for h in hits if h.category == "means_probe"]
        injection = any(h.category == "prompt_injection" for h in block_hits)

        reasons = [h.rule for h in hits]
        categories: list[str] = []
        level: int | None = None
        score = 0.0

        def add(cat: str) -> None:
            if cat not in categories:
                categories.append(cat)

        # Learned layer on the message windows (and the recent turns joined).
        readable = _encoder_reads(message)
        pred = self._predict(now.prepared_windows) if readable else []
        # a told history with recovery now is not read as a present crisis by the learned layer either
        p_crisis = 0.0 if now.history else max((p.p("crisis") for p in pred), default=0.0)
        # "I'm not suicidal, just tired": a risk word the person denies (a negated rule) is not a crisis on the
        # learned layer's word alone (it read 0.76 there), unless the layer is near certain
        denied = any(h.rule.endswith(".negated") for h in now.hits) and not any(
            h.category in CRISIS_CATEGORIES and not h.rule.endswith(".negated") for h in now.hits)
        confident = not now.history and any(self._confident_crisis(p) and not (denied and p.p("crisis") < t.crisis_sure)
                                            for p in pred)
        if pred:
            top = max(pred, key=lambda p: p.p("crisis"))
            reasons.append(f"exemplar:{top.nearest_label}/{top.nearest_sub}#{top.nearest_index}@{top.nearest_similarity:.2f}")
        p_harmful = max((p.p("harmful") for p in pred), default=0.0)
        top_h = max(pred, key=lambda p: p.p("harmful")) if pred else None
        learned_means = (top_h is not None and p_harmful >= t.learned_means and not injection
                         and top_h.nearest_sub != "diagnosis_request")
        has_signal = bool(means_hits or probe_hits or distress or p_crisis >= 0.3)
        # The joined-turns model call only matters when nothing above already decides crisis
        # (saves a second embedding on most risky multi-turn messages).
        decided = bool(crisis_hits) or bool((means_hits or probe_hits or learned_means)
                                            and (distress_sum >= DISTRESS_FOR_MEANS or prev_crisis)) \
            or bool(prev_crisis and not now.safe_statement) or (distress_sum >= 1.0 and strong_distress) \
            or (not injection and confident)
        vote = bool(pred) and not now.history and self._neighbours_vote_crisis(pred[0], now)
        # a warning sign named by the rules (affairs put in order, a last time, a settled decision)
        # that the learned layer also places nearest a crisis exemplar: two layers agreeing
        warning = (bool(pred) and not injection and not now.history and top.nearest_label == "crisis"
                   and p_crisis >= t.warning_sign_p and any(h.rule in flagged("warning_sign") for h in now.hits)
                   and not now.upbeat)
        near_crisis = bool(pred) and not injection and not now.history and (self._near_crisis_exemplar(top) or vote or warning)
        decided = decided or near_crisis
        # An earlier message that the learned layer alone reads as crisis keeps the conversation in
        # crisis until the person says they are safe, as the rules' own hits do (C-SSRS: a disclosure
        # is not withdrawn by a following music request).
        prev_learned: Prediction | None = None
        if not decided and recent and self._learned is not None:
            earlier = [a for a in recent[-LEARNED_CONTEXT_TURNS:]
                       if not any(h.category == "prompt_injection" for h in a.hits)]
            texts = [a.prepared_windows[0] for a in earlier]
            if len(texts) >= 2:  # a disclosure spread over two or three short messages
                texts.append(" ".join(texts[-3:]))
            for p in self._predict(texts):
                if self._reads_crisis(p):
                    prev_learned = p
            decided = prev_learned is not None
        p_context = 0.0
        if previous and recent and has_signal and not decided and readable and self._learned is not None:
            joined = " . ".join([prepare(m) for m in previous[last_safe + 1:][-3:]] + [now.prepared_windows[0]])
            p_context = self._predict((joined,))[0].p("crisis")

        action = "allow"
        if crisis_hits:
            action = "crisis"
            for h in crisis_hits:
                add(h.category)
            level = max((h.level for h in crisis_hits if h.level), default=None)
            score = max(h.weight for h in crisis_hits)
        elif (means_hits or probe_hits or learned_means) and (distress_sum >= DISTRESS_FOR_MEANS or prev_crisis):
            action = "crisis"
            add("suicide_self_harm")
            level = 3
            reasons.append("context.distress_plus_means" if means_hits else
                           "context.distress_plus_probe" if probe_hits else "context.distress_plus_learned_means")
            score = min(1.0, 0.75 + distress_sum / 4)
        elif prev_crisis and not now.safe_statement:
            action = "crisis"
            for h in prev_crisis:
                add(h.category)
            level = max((h.level for h in prev_crisis if h.level), default=None)
            reasons.append("context.recent_crisis")
            score = 0.8
        elif prev_learned is not None and not now.safe_statement:
            action = "crisis"
            add(prev_learned.nearest_sub if prev_learned.nearest_label == "crisis" and prev_learned.nearest_sub != "crisis"
                else "suicide_self_harm")
            level = 1 if "suicide_self_harm" in categories else None
            reasons.append("context.recent_crisis_learned")
            score = 0.8
        elif distress_sum >= 1.0 and strong_distress:
            action = "crisis"
            add("suicide_self_harm")
            level = 1
            reasons.append("context.accumulated_distress")
            score = min(1.0, 0.6 + distress_sum / 5)
        elif not injection and (confident or near_crisis) and not now.safe_statement:  # "I'm not in danger, I just meant ..." (learned 0.90)
            action = "crisis"
            add("suicide_self_harm" if top.nearest_label != "crisis" or top.nearest_sub == "crisis" else top.nearest_sub)
            level = 1
            reasons.append("learned.crisis" if confident else "learned.neighbour_vote" if vote
                           else "context.warning_sign" if warning else "learned.near_exemplar")
            score = p_crisis
        elif not injection and p_context >= t.context_crisis and not now.safe_statement:
            # (the joined reading is the earlier messages' as much as this one's: "no no, I'm fine, I only
            # meant goodbye for today" after a "Goodbye." is the person saying they are safe, as above)
            action = "crisis"
            add("suicide_self_harm")
            level = 1
            reasons.append("learned.context_crisis")
            score = p_context

        # Risk read from its parts (``risk``): a means interest with despair anywhere recent is a
        # crisis whatever the wording; a lethality question alone is a method request; asking for
        # another person's data is a privacy request.
        parts = self._risk_layer()
        if parts is not None and not now.history and readable:
            rt = self.risk_thresholds
            r_now = parts.read_most(_risk_windows(now))
            earlier = [parts.read_most(_risk_windows(a)) for a in recent[-LEARNED_CONTEXT_TURNS:]
                       if not any(h.category == "prompt_injection" for h in a.hits)]
            despair = max([r_now.despair] + [r.despair for r in earlier])
            if action != "crisis" and not now.safe_statement and not injection:
                if r_now.risk >= rt.risk or any(r.risk >= rt.risk for r in earlier):
                    action, score, level = "crisis", max([r_now.risk] + [r.risk for r in earlier]), 1
                    add("suicide_self_harm")
                    reasons.append("risk.reads_risk" if r_now.risk >= rt.risk else "risk.context_risk")
                elif r_now.means >= rt.means and despair >= rt.despair:
                    action, score, level = "crisis", min(1.0, 0.5 * (r_now.means + despair)), 3
                    add("suicide_self_harm")
                    reasons.append("risk.means_with_despair")
                elif (split := _means_and_despair(parts, _clauses(message), despair, rt)) is not None:
                    action, score, level = "crisis", split, 3
                    add("suicide_self_harm")
                    reasons.append("risk.means_with_despair_in_clauses")
            if action != "crisis":
                if r_now.lethal >= rt.lethal and (injection or not block_hits):
                    # a method question framed as coursework or fiction is a method request, not an injection
                    block_hits = [h for h in block_hits if h.category != "prompt_injection"]
                    action, score = "block", r_now.lethal
                    add("method_request")
                    reasons.append("risk.lethal")
                elif r_now.privacy >= rt.privacy and action == "allow" and not block_hits:
                    action, score = "block", r_now.privacy
                    add("privacy_request")
                    reasons.append("risk.privacy")

        if block_hits:
            for h in block_hits:
                add(h.category)
            if action == "allow":
                action = "block"
                score = max(h.weight for h in block_hits)
        elif action == "allow" and pred and not innocent_height:  # (a risk-layer block is not "allow")
            best = {label: max(p.p(label) for p in pred) for label in ("harmful", "injection", "out_of_scope")}
            near = max(pred, key=lambda p: max(best.values()))
            voted = [p for p in pred if p.p("harmful") >= t.harmful_vote_p and p.nearest_label == "harmful"
                     and sum(x == "harmful" for x in p.neighbour_labels) >= t.harmful_vote_neighbours]
            voted += [p for p in pred if p.nearest_label == "harmful" and p.nearest_similarity >= t.harmful_near_similarity
                      and p.p("harmful") >= t.harmful_near_p and p.p("harmful") >= p.p("benign")]
            if best["harmful"] >= t.harmful:
                action, score = "block", best["harmful"]
                add(near.nearest_sub if near.nearest_label == "harmful" else "method_request")
                reasons.append("learned.harmful")
            elif voted:
                action, score = "block", voted[0].p("harmful")
                add(voted[0].nearest_sub)
                reasons.append("learned.harmful_vote")
            elif best["injection"] >= t.injection:
                action, score = "block", best["injection"]
                add("prompt_injection")
                reasons.append("learned.injection")
            elif best["out_of_scope"] >= t.out_of_scope:
                action, score = "block", best["out_of_scope"]
                add("out_of_scope")
                reasons.append("learned.out_of_scope")

        if action == "allow":
            # a low score that still shows how close the message came
            non_benign = max((1.0 - p.p("benign") for p in pred), default=0.0)
            score = min(0.49, max([non_benign * 0.5, distress_sum * 0.3] + [0.0]))
            if distress:
                categories.append("distress")
        return ScreenResult(action=action, categories=categories, score=round(float(min(max(score, 0.0), 1.0)), 4),
                            reasons=reasons, cssrs_level=level if action == "crisis" and "suicide_self_harm" in categories else None,
                            language=now.language)

    def _near_crisis_exemplar(self, p: Prediction) -> bool:
        """Very close to a labelled crisis exemplar, with the classifier leaning that way."""
        t = self.thresholds
        return (p.nearest_label == "crisis" and p.nearest_similarity >= t.crisis_near_similarity
                and p.p("crisis") >= t.crisis_near_p)

    def _neighbours_vote_crisis(self, p: Prediction, now: _Analysis) -> bool:
        """The nearest exemplar and most of the nearest few are crisis, and the classifier leans that way.

        Not on short, figurative-masked or accident-naming texts: a fragment like "on the train"
        (what is left of "my phone died on the train") sits near anything.
        """
        t = self.thresholds
        return (len(now.prepared_windows[0].split()) >= VOTE_MIN_WORDS and not now.figurative and not now.accident
                and not _ABOUT_OTHER.match(now.prepared_windows[0])
                and p.nearest_label == "crisis" and p.nearest_similarity >= t.crisis_vote_similarity
                and sum(x == "crisis" for x in p.neighbour_labels) >= t.crisis_vote_neighbours
                and p.p("crisis") >= t.crisis_vote_p)

    def _reads_crisis(self, p: Prediction) -> bool:
        """The learned layer's own crisis call: confident, or close to a crisis exemplar."""
        return self._confident_crisis(p) or self._near_crisis_exemplar(p)

    def _confident_crisis(self, p: Prediction) -> bool:
        """p(crisis) over the threshold, with some of the nearest exemplars agreeing (or near certain).

        The character n-grams can lift a vague sentence ("it has been like this for weeks") over
        0.85 with only benign exemplars around it; a neighbourhood with no crisis in it vetoes that.
        """
        t = self.thresholds
        return p.p("crisis") >= t.crisis and (p.p("crisis") >= t.crisis_sure
                                              or sum(x == "crisis" for x in p.neighbour_labels) >= t.crisis_agree)

    def _predict(self, prepared: Iterable[str]) -> list[Prediction]:
        if self._learned is None:
            return []
        return self._learned.predict(list(prepared))


_default: InputGuard | None = None


def _means_and_despair(parts: RiskReader, clauses: tuple[str, ...], despair_before: float,
                       rt: RiskThresholds) -> float | None:
    """The score when one clause asks about a means and another clause (or a recent message) despairs."""
    if not clauses:
        return None
    read = parts.read(list(clauses))
    for i, r in enumerate(read):
        if r.means < max(rt.means, CLAUSE_MEANS) or r.lethal + r.fact < r.distress + r.risk:
            continue
        others = max([despair_before] + [o.despair for j, o in enumerate(read) if j != i])
        if others >= max(rt.despair, CLAUSE_DESPAIR):
            return min(1.0, 0.5 * (r.means + others))
    return None


def screen_input(message: str, conversation: Sequence[str] = ()) -> ScreenResult:
    """Screen with a process-wide ``InputGuard`` (learned layer loaded on first call)."""
    global _default
    if _default is None:
        _default = InputGuard()
    return _default.screen(message, conversation)
