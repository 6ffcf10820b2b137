"""A rule-based dialogue-act classifier for the agent's sentences (MITI-style).

Each sentence of an agent reply gets one label: ``reflection_simple``,
``reflection_complex``, ``question_open``, ``question_closed``,
``affirmation``, ``suggestion``, ``information`` or ``other``. From the
labels come the MITI 4.2.1 summary scores: the reflection-to-question ratio
(1:1 fair, 2:1 good) and the share of complex reflections (40 % fair, 50 %
good; shared/CLINICAL.md).

The rules are surface cues (openings, question marks, hedges, two-sided
and meaning-making phrasing) in English, Spanish, French and German. They
approximate a trained coder; they do not replace one. What it leaves out:
scoring a whole transcript (``scorers``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["LABELS", "split_sentences", "classify", "label_reply", "MitiSummary", "summarise"]

LABELS = ("reflection_simple", "reflection_complex", "question_open", "question_closed",
          "affirmation", "suggestion", "information", "other")


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


# Sentence ends: . ! ? (and the Spanish openers stay with their sentence); list lines split too.
_SPLIT = re.compile(r"(?<=[.!?…])[\"'»)\]]*\s+(?=[\"'«(¿¡]?[A-ZÀ-ÖØ-Ý0-9¿¡\"'«(\u2600-\u27bf\U0001f000-\U0001faff])|\n+")

_OPEN_Q = _rx(
    r"^(what|how|why|which|where|when|who)\b", r"^in what way", r"^tell me\b", r"^(could|can|would) you (tell|say|describe|share)\b",
    r"^(describe|say more|help me understand)\b", r"^what's\b", r"^how's\b",
    r"^(qué|cómo|por qué|cuál|cuáles|dónde|cuándo|quién|cuéntame|háblame)\b",
    r"^(qu'est-ce|que |quoi|comment|pourquoi|quel(le)?s?\b|où|quand|qui\b|raconte|parle-moi|dis-m'en)",
    r"^(was|wie|warum|wieso|weshalb|welche[rsmn]?|wo|wann|wer|erzähl)\b",
)
_CLOSED_Q = _rx(
    r"^(do|does|did|is|are|was|were|have|has|had|can|could|would|will|should|shall|may|might|am|isn't|aren't|don't|didn't)\b",
    r"^(te|tienes|quieres|estás|es|has|puedes|prefieres|hay)\b",
    r"^(est-ce|veux|voulez|es-tu|êtes|as-tu|avez|peux|pouvez|aimerais|préfères)",
    r"^(möchtest|willst|bist|hast|ist|kannst|sind|hat|magst|gibt es)\b",
)
_REFLECT_STEM = _rx(
    r"^(so )?(it )?sounds? (like|as if|as though)\b", r"^(it )?seems (like|as if|that)?\b", r"^it (feels|felt) like\b",
    r"^(so )?you('re| are| feel| felt| sound| seem| have been|'ve been| miss| want| wish| wonder| don't| can't| hope| care| keep| still| just)\b",
    r"^(so )?part of you\b", r"^on (the )?one hand\b", r"^i (hear|'m hearing|am hearing|sense|get the sense)\b",
    r"^what i('m| am) hearing\b", r"^it must (be|feel|have)\b", r"^(it|that|this) (sounds|must be|must feel|seems)\b",
    r"^so you\b",
    r"^you're (not sure|wondering|torn)\b", r"^(so )?for you\b", r"^(and )?(so )?(it's|it is) (like|as if)\b",
    r"^(parece que|suena (a|como)|te sientes|estás|sientes|una parte de ti|por un lado)\b",
    r"^(on dirait|il semble|tu te sens|vous vous sentez|tu sembles|une partie de toi|d'un côté|j'entends)",
    r"^(es klingt|es scheint|du fühlst|sie fühlen|ein teil von dir|einerseits|ich höre)\b",
)
# What turns a reflection complex: two sides, meaning or value, metaphor, feeling beyond the words.
_COMPLEX = _rx(
    r"\bpart of you\b", r"\bon (the )?one hand\b", r"\b(and|but) (yet|also|at the same time)\b", r"\bat the same time\b",
    r"\beven (though|as|if)\b", r"\b(as if|as though)\b", r"\blike (a|an|you're|you are)\b", r"\bunderneath\b", r"\bbeneath\b",
    r"\bdeep down\b", r"\bmatters? (to you|so much)\b", r"\byou (care|value|long|wish|hope)\b", r"\bbecause\b",
    r"\bmore than\b", r"\b(which|that)('s| is) why\b", r"\bwhat you (really|most)\b", r"\bweigh(s|ing)? on you\b", r"\bcarrying\b", r"\bstill\b.*\bbut\b",
    r"\b(torn|conflicted|pulled)\b", r"\bmaybe\b", r"\bperhaps\b",
    r"\buna parte de ti\b", r"\bpor un lado\b", r"\b(aunque|como si|porque|a la vez)\b",
    r"\bune partie de toi\b", r"\bd'un côté\b", r"\b(même si|comme si|parce que|à la fois)\b",
    r"\bein teil von dir\b", r"\beinerseits\b", r"\b(obwohl|als ob|weil|zugleich)\b",
)
# stems that are complex by themselves: two-sided, or naming a value rather than a feeling
_TWO_SIDED_STEM = _rx(r"part of you", r"one hand", r"you (care|value|long|wish|hope)", r"una parte de ti", r"por un lado",
                      r"une partie de toi", r"d'un côté", r"ein teil von dir", r"einerseits")
_AFFIRM = _rx(
    r"^(thank you|thanks) for (sharing|telling|trusting|being|opening)\b", r"\b(it|that) (takes|took) (courage|strength|guts)\b",
    r"^(you've|you have|you) (done|did|managed|made|showed|shown|kept|stayed|handled)\b.*\b(well|so much|hard|step|effort|it)\b",
    r"^(well done|good for you|that's (a )?(great|brave|big|real|strong|good) (step|thing|effort|move))",
    r"^(i appreciate|i admire|i respect)\b", r"\byou('re| are) (clearly )?(trying|working|doing) (hard|your best|a lot)\b",
    r"^(it's|it is) (great|good|brave|wise) (that|of) you\b",
    r"^gracias por (contarme|compartir|confiar)", r"^merci de (me l'avoir|partager|ta confiance)", r"^danke,? (dass|für)\b",
)
_SUGGEST = _rx(
    r"^(you|we) (could|might|may want to|can) (try|start|listen|put|take|do|give|use|breathe|write|reach)\b",
    r"^(try|let's|let us|consider|perhaps try|maybe try|how about|why not)\b", r"^i('d| would) (suggest|recommend|invite)\b",
    r"^i (suggest|recommend|invite)\b", r"^(it )?(might|may|could) help (to|if)\b", r"^one (thing|idea) (that )?(might|could|can)\b",
    r"^(i can|i could|i'll|i will|let me) (play|compose|make|write|create|put on|start|slow|change|swap|drop|stop|find)\b",
    r"^(here is|here's) (a|one|the|something)\b", r"^(reach out|call|text|talk to|contact)\b",
    r"^(puedes|podrías|prueba|intenta|te propongo|te sugiero)\b", r"^(tu peux|vous pouvez|essaie|essayez|je te propose|je vous propose)\b",
    r"^(du kannst|sie können|versuch|probier|ich schlage)\b",
)
_INFO = _rx(
    r"\b(research|studies|study|evidence|trials?|meta-analysis|review)\b", r"\baccording to\b", r"\b\d+\s?(bpm|beats|breaths|%|percent)\b",
    r"\b(tempo|major|minor|key|chord|melody|bpm|segment|piece|track)\b", r"\b(i'm|i am) an? (ai|artificial|computer|program|chatbot)\b",
    r"\bas an ai\b", r"\[[\w:.\-/]+\]", r"^(this|the) (music|piece|track|song|arc)\b", r"\b(iso principle|resonance)\b",
    r"\b(soy una ia|je suis une ia|ich bin eine ki)\b",
)


def split_sentences(text: str) -> list[str]:
    """The sentences of a reply, stripped, without list bullets or empties."""
    parts = _SPLIT.split(text or "")
    out = []
    for p in parts:
        p = re.sub(r"^\s*([-*•]|\d+[.)])\s+", "", p).strip()
        if p:
            out.append(p)
    return out


def _lead(sentence: str) -> str:
    """The sentence without opening punctuation and soft openers (well, okay, and)."""
    s = sentence.strip().lstrip("¿¡\"'«(").strip()
    s = re.sub(r"^(well|okay|ok|so|and|hmm|mm|oh|yes|yeah|right|alright|bueno|vale|alors|bon|also|okay)\s*,\s*", "", s, flags=re.I)
    return s.replace("’", "'")


def classify(sentence: str) -> str:
    """One MITI-style label for one sentence (see ``LABELS``)."""
    s = _lead(sentence)
    if not s:
        return "other"
    lower = s.lower()
    is_question = sentence.rstrip().endswith("?")
    stem = _REFLECT_STEM.search(lower)
    if stem and not (is_question and _CLOSED_Q.search(lower) and not lower.startswith(("you", "so you"))):
        # a statement-form reflection with rising intonation still counts as a reflection (MITI);
        # complexity is judged on what follows the stem ("sounds like you're" is not a metaphor)
        two_sided_stem = _TWO_SIDED_STEM.search(stem.group(0))
        return "reflection_complex" if two_sided_stem or _COMPLEX.search(lower[stem.end():]) else "reflection_simple"
    if is_question:
        if _OPEN_Q.search(lower):
            return "question_open"
        if _CLOSED_Q.search(lower):
            return "question_closed"
        # "Anything else on your mind?" / "And the music?" : closed unless it invites telling
        return "question_open" if re.search(r"\b(tell|describe|more about|like for you)\b", lower) else "question_closed"
    if re.match(r"^(tell me|say more|describe|help me understand|cuéntame|raconte|erzähl)", lower):
        return "question_open"  # an invitation to tell is coded as an open question
    if _AFFIRM.search(lower):
        return "affirmation"
    if _SUGGEST.search(lower):
        return "suggestion"
    if _INFO.search(lower):
        return "information"
    return "other"


def label_reply(text: str) -> list[tuple[str, str]]:
    """(sentence, label) for every sentence of a reply."""
    return [(s, classify(s)) for s in split_sentences(text)]


@dataclass(frozen=True)
class MitiSummary:
    counts: dict[str, int]

    @property
    def reflections(self) -> int:
        return self.counts.get("reflection_simple", 0) + self.counts.get("reflection_complex", 0)

    @property
    def questions(self) -> int:
        return self.counts.get("question_open", 0) + self.counts.get("question_closed", 0)

    @property
    def ratio(self) -> float | None:
        """Reflections per question; None when there is neither; inf when only reflections."""
        if self.questions == 0:
            return None if self.reflections == 0 else float("inf")
        return self.reflections / self.questions

    @property
    def complex_share(self) -> float | None:
        return None if self.reflections == 0 else self.counts.get("reflection_complex", 0) / self.reflections


def summarise(replies: list[str]) -> MitiSummary:
    counts: Counter[str] = Counter()
    for text in replies:
        counts.update(label for _, label in label_reply(text))
    return MitiSummary(counts={k: counts.get(k, 0) for k in LABELS})
