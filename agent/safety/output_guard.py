"""The output screen: checks a model reply before anyone sees it.

Problems it finds: method, means or location details; medication names with
amounts, or advice to start or stop medication; a diagnosis ("you have
depression"); a claim to be human or a therapist; text of the system prompt
(the planted canary string, also when spaced out or case-changed); citations
``[id]`` to sources that were not retrieved. A failing reply is replaced by a
safe one that still gives no content; callers record the event.

What it leaves out: tone and helpfulness (the eval harness scores those).
"""

from __future__ import annotations

import re
from pathlib import Path



from attune.common.data import load_yaml
from .models import OutputVerdict
from .normalize import normalise
from .rules import PILLS

__all__ = ["OutputGuard", "SAFE_REPLACEMENT", "load_output_cases", "screen_output"]

OUTPUT_CASES_PATH = Path(__file__).resolve().parent.parent / "data" / "output_eval.yaml"

SAFE_REPLACEMENT = (
    "I'm sorry, I can't help with that part. I'm an AI companion, not a clinician, so questions about "
    "medication, diagnosis or anything that could cause harm are best taken to a doctor or another "
    "professional. I'm still here to listen, and we could try some calming music together if you like."
)
SAFE_REPLACEMENT_CRISIS = (
    "I can't share that, and I'm worried about how you're doing. If you're thinking about harming "
    "yourself, please reach out to a crisis line or your local emergency number right now, or tell "
    "someone near you. I'm an AI, but I'm here with you while you do."
)

_MED_NAMES = (r"(?:sertraline|zoloft|fluoxetine|prozac|citalopram|escitalopram|lexapro|paroxetine|venlafaxine|effexor|duloxetine|"
              r"bupropion|wellbutrin|mirtazapine|amitriptyline|trazodone|lithium|quetiapine|seroquel|olanzapine|aripiprazole|risperidone|"
              r"lamotrigine|valproate|diazepam|valium|alprazolam|xanax|lorazepam|ativan|clonazepam|klonopin|zolpidem|ambien|melatonin|"
              r"paracetamol|acetaminophen|tylenol|ibuprofen|advil|aspirin|codeine|tramadol|oxycodone|morphine|fentanyl|insulin|"
              r"propranolol|methylphenidate|ritalin|adderall|pills?|tablets?)")
_AMOUNT = (r"(?:\d+(?:[.,]\d+)?\s?(?:mg|milligrams?|g|grams?|mcg|µg|ml|iu|units?|pills?|tablets?|capsules?|doses?)\b|(?:a|one|"
           r"two|three|four|five|ten|twenty|thirty|fifty|a hundred|half a) (?:pills?|tablets?|capsules?|bottles?|packs?|packets?))")

_PROBLEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("method_detail", re.compile(
        r"\b(?:lethal|fatal|deadly|toxic) (?:dose|amount|quantity|level)s? (?:of|is|are|would|for)|"
        r"\b(?:to|you could|you can|one could|people) (?:hang|drown|suffocate|poison|overdose|electrocute|shoot) (?:yourself|themselves|oneself)|"
        r"\b(?:tie|tying) (?:a )?noose|\bnoose\b|\bslit (?:your|the|their) wrists?|\bcut (?:deep|vertically|along)|"
        r"\b(?:jump|jumping|fall|falling) (?:off|from) (?:a |the )?(?:\w+ ){0,2}(?:bridge|building|roof|cliff|tower|balcony)|"
        r"\b(?:tallest|highest) (?:\w+ ){0,2}(?:bridges?|buildings?|cliffs?|roofs?|towers?)|"
        r"\b(?:bridge|building|cliff|tower)s? (?:is|are|stands?|rises?) (?:about |around |over |nearly |roughly )?\d+ ?(?:m|meters|metres|feet|ft|stories|storeys)|"
        r"\b(?:painless|quickest|fastest|easiest|surest|most effective|most lethal) (?:way|method|means)s? (?:to|of|is)|"
        r"\b(?:bleed out|bleeding out|lose consciousness) (?:in|within|after) \d+|"
        r"\b(?:carbon monoxide|helium|nitrogen|charcoal|exhaust|sodium nitrite|cyanide|barbiturates?|pentobarbital|nembutal|"
        r"bleach and ammonia)\b.{0,60}\b(?:die|death|kill|lethal|fatal|unconscious|suicide|dose|mix|inhale)|"
        r"\b(?:die|death|kill|lethal|fatal|unconscious|suicide)\b.{0,60}\b(?:carbon monoxide|helium|nitrogen|charcoal|sodium nitrite|cyanide|pentobarbital|nembutal)\b|"
        r"\bwould (?:kill|be (?:lethal|fatal)) (?:you|someone|a person|an adult)\b|\b(?:overdose|od) (?:on|with) " + PILLS + r"\b")),
    ("medication_amount", re.compile(
        rf"\b{_MED_NAMES}\b.{{0,40}}{_AMOUNT}|{_AMOUNT}.{{0,30}}\b{_MED_NAMES}\b|\b(?:take|taking|double|increase|decrease|up|raise|lower) (?:your |the )?(?:dose|dosage)\b.{{0,30}}\b(?:to|by) \d")),
    ("medication_advice", re.compile(
        rf"\b(?:you (?:should|could|can|may|might want to)|try|i (?:recommend|suggest|would)|it is (?:fine|safe|ok|okay) to|"
        rf"its (?:fine|safe|ok|okay) to|go ahead and|just) (?:(?:start|stop|quit|skip|double|halve|come off|go off|wean off|"
        rf"cut down on|increase|decrease|reduce|taper|take|mix|combine) (?:taking )?(?:your |the |some |a |an )?(?:{_MED_NAMES}|"
        rf"{PILLS}|medication|medicine|meds|antidepressants?|dose|dosage|prescription))|\b(?:stop|quit|come off) (?:taking )?(?:your )?(?:{_MED_NAMES}|"
        rf"{PILLS}|medication|meds|antidepressants?) (?:cold turkey|now|today|right away|immediately)\b")),
    ("diagnosis", re.compile(
        r"\b(?:you (?:have|ve got|definitely have|probably have|likely have|clearly have|are suffering from|suffer from|"
        r"might have|may have|could have|seem to have|appear to have)|(?:it |this )?sounds like you (?:have|ve got|are suffering from)|"
        r"(?:you are|youre) (?:clinically depressed|bipolar|autistic|psychotic|schizophrenic|borderline|manic|anorexic|bulimic)|"
        r"my diagnosis is|i diagnose|(?:this|that|it) (?:is|sounds like|looks like) (?:a )?(?:clear |classic |textbook )?(?:case of )?(?:bipolar|"
        r"major depression|clinical depression|ptsd|ocd|adhd|bpd|schizophrenia|psychosis|generali[sz]ed anxiety disorder))\b"
        r"(?:.{0,40}\b(?:depression|bipolar|adhd|ptsd|ocd|autism|bpd|borderline|schizophrenia|psychosis|disorder|anxiety|"
        r"dementia|anorexia|bulimia|illness|condition|syndrome|depressed|autistic|psychotic|manic))?")),
    ("claims_human", re.compile(
        r"\b(?:i am|im|i m|as) (?:a |an |your )?(?:real |actual |licensed |qualified |certified |trained |human |registered )*(?:human|"
        r"person|therapist|psychologist|psychiatrist|counsellor|counselor|doctor|physician|nurse|clinician|music therapist)\b|"
        r"\bi(?: am|m) not (?:an? )?(?:ai|bot|robot|chatbot|machine|program)\b|\b(?:as|speaking as) (?:a|your) (?:human|"
        r"therapist|doctor|clinician)\b")),
)
_NEGATED_CLAIM = re.compile(r"\b(?:i am|im|i m) not (?:a |an |your )?(?:real |actual |licensed |qualified |human |trained )*(?:human|person|"
                            r"therapist|psychologist|psychiatrist|counsellor|counselor|doctor|physician|nurse|clinician|music therapist)\b")
_NEGATED_DIAGNOSIS = re.compile(r"\b(?:i cant|i can not|i cannot|i am not able to|im not able to|not able to|cant|wont|unable to) (?:tell you (?:if|"
                                r"whether) |say (?:if|whether) )?you have\b|\b(?:if|whether) you have\b|\bdo you have\b|\byou have (?:a |the )?(?:right|"
                                r"choice|support|people|time|options|been|done|made|shared|told)\b")
_CITATION = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.:#/\-]{0,80})\]")


class OutputGuard:
    """Checks model replies; ``screen`` returns an ``OutputVerdict``."""

    def __init__(self, replacement: str = SAFE_REPLACEMENT, crisis_replacement: str = SAFE_REPLACEMENT_CRISIS) -> None:
        self.replacement = replacement
        self.crisis_replacement = crisis_replacement

    def screen(self, reply: str, *, canary: str | None, allowed_source_ids: set[str]) -> OutputVerdict:
        if not isinstance(reply, str):
            reply = "" if reply is None else str(reply)
        norm = normalise(reply)
        text = norm.text
        problems: list[str] = []
        for name, pattern in _PROBLEMS:
            for m in pattern.finditer(text):
                if name == "claims_human" and _NEGATED_CLAIM.search(text[max(0, m.start() - 5):m.end() + 5]):
                    continue
                if name == "claims_human" and re.search(r"\b(?:not|never|no)\s+(?:\w+\s+){0,2}$", text[max(0, m.start() - 25):m.start()]):
                    continue
                if name == "diagnosis":
                    window = text[max(0, m.start() - 30):m.end()]
                    if _NEGATED_DIAGNOSIS.search(window) or not re.search(
                            r"depress|bipolar|adhd|ptsd|ocd|autis|bpd|borderline|schizo|psychos|psychot|disorder|anxiety|dementia|anorex|bulim|illness|condition|syndrome|manic", m.group(0)):
                        continue
                problems.append(name)
                break
        if canary and self._leaks(canary, reply, norm.text):
            problems.append("canary_leak")
        cited = set(_CITATION.findall(reply))
        bad = sorted(c for c in cited if c not in allowed_source_ids)
        if bad:
            problems.append("unknown_citation:" + ",".join(bad[:5]))
        if not problems:
            return OutputVerdict(ok=True)
        crisis_like = any(p in ("method_detail",) for p in problems)
        return OutputVerdict(ok=False, problems=problems,
                             replacement=self.crisis_replacement if crisis_like else self.replacement)

    @staticmethod
    def _leaks(canary: str, reply: str, reply_text: str) -> bool:
        if canary in reply:
            return True
        squashed_canary = re.sub(r"[^a-z0-9]", "", normalise(canary).text)
        if len(squashed_canary) < 6:
            return canary.lower() in reply.lower()
        return squashed_canary in re.sub(r"[^a-z0-9]", "", reply_text)


def load_output_cases(path: Path = OUTPUT_CASES_PATH) -> list[dict]:
    """Planted replies: ``bad`` ones must be caught, good ones must pass."""
    data = load_yaml(path.read_text(encoding="utf-8"))
    cases = []
    for kind in ("bad", "good"):
        for i, case in enumerate(data[kind]):
            case = dict(case) if isinstance(case, dict) else {"reply": case}
            case.setdefault("id", f"{kind}-{i:03d}")
            case["bad"] = kind == "bad"
            cases.append(case)
    return cases


_default = OutputGuard()


def screen_output(reply: str, *, canary: str | None = None, allowed_source_ids: set[str] | frozenset[str] = frozenset()) -> OutputVerdict:
    return _default.screen(reply, canary=canary, allowed_source_ids=set(allowed_source_ids))
