"""The crisis protocol, written by code: no model call, ever.

``crisis_reply`` acknowledges, asks whether the person is safe right now,
gives the locale's resources, offers a 5-4-3-2-1 grounding exercise and a
first safety-plan step, and encourages reaching a person now (CLINICAL.md:
safe messaging; Wysa's flow). Text is in English, Spanish, French or German
following the message language. ``update_crisis_mode`` keeps a session in
crisis mode until the person says they are safe.

What it leaves out: storing the flag (the session does) and alerting a
clinician (the caller records the event).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from pydantic import BaseModel, ConfigDict

from attune.common.errors import ConfigError
from attune.common.data import load_yaml

from .models import CrisisReply, CrisisResource, ScreenResult
from .normalize import normalise
from .rules import signal

__all__ = ["RESOURCES_PATH", "load_crisis_resources", "resources_for", "crisis_reply", "update_crisis_mode",
           "says_safe", "CrisisState"]

RESOURCES_PATH = Path(__file__).resolve().parent.parent / "data" / "crisis_resources.yaml"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")
    countries: list[str]
    resources: list[CrisisResource]


class _ResourceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locales: dict[str, list[CrisisResource]]
    groups: dict[str, _Group] = {}
    fallback: list[CrisisResource]


@lru_cache(maxsize=8)
def load_crisis_resources(path: Path = RESOURCES_PATH) -> _ResourceFile:
    """The validated resource file (unknown keys are an error)."""
    try:
        return _ResourceFile.model_validate(load_yaml(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"The crisis resource file {path} is invalid: {exc}") from None


def _country(locale: str | None) -> str:
    code = (locale or "").strip().upper().replace("_", "-")
    code = code.split("-")[-1] if "-" in code else code  # en-GB -> GB
    return {"UK": "GB"}.get(code, code)


def resources_for(locale: str | None, overrides: Mapping[str, Sequence[CrisisResource]] | Sequence[CrisisResource] | None = None) -> list[CrisisResource]:
    """Resources for a locale: clinician overrides first, then the packaged file, then the fallback."""
    country = _country(locale)
    if overrides is not None:
        if isinstance(overrides, Mapping):
            chosen = overrides.get(country) or overrides.get(locale or "")
            if chosen:
                return [CrisisResource.model_validate(r) for r in chosen]
        elif len(overrides):
            return [CrisisResource.model_validate(r) for r in overrides]
    data = load_crisis_resources()
    if country in data.locales:
        return list(data.locales[country])
    for group in data.groups.values():
        if country in group.countries:
            return list(group.resources)
    return list(data.fallback)


_TEXT = {
    "en": {
        "ack": "{name}I'm really glad you told me. What you're carrying sounds very heavy, and you deserve support with it right now.",
        "ask": "Are you safe right now? If you might act on these thoughts or you're in danger, please contact emergency services now.",
        "res": "You can reach a person right now:",
        "person": "If you can, reach out to someone you trust as well: a friend, family member or neighbour, and let them know how "
                  "you're feeling. Talking to a person helps, and these feelings can ease with support.",
        "ground": "If it helps, we can try a grounding exercise together: name 5 things you can see, 4 you can feel, 3 you can hear, 2 you can smell and 1 you can taste. Breathe slowly as you go.",
        "plan": "A first step for a safety plan: write down one person you can contact and one place where you feel safer, and, if you can, put anything you could use to hurt yourself out of reach.",
        "ai": "I'm an AI companion, not a crisis counsellor, but I'm here with you while you reach out.",
    },
    "es": {
        "ack": "{name}Gracias por contármelo. Lo que estás viviendo suena muy duro y mereces apoyo ahora mismo.",
        "ask": "¿Estás a salvo en este momento? Si corres peligro o podrías actuar sobre estos pensamientos, contacta ahora con emergencias.",
        "res": "Puedes hablar con una persona ahora mismo:",
        "person": "Si puedes, busca también a alguien de confianza (un amigo, un familiar, un vecino) y cuéntale cómo te sientes. "
                  "Hablar con una persona ayuda, y con apoyo estos sentimientos pueden aliviarse.",
        "ground": "Si te ayuda, podemos hacer un ejercicio para anclarte: nombra 5 cosas que ves, 4 que sientes al tacto, 3 que oyes, "
                  "2 que hueles y 1 que saboreas. Respira despacio mientras lo haces.",
        "plan": "Un primer paso de un plan de seguridad: anota una persona a la que puedas llamar y un lugar donde te sientas más "
                "seguro, y si puedes, aleja cualquier cosa con la que podrías hacerte daño.",
        "ai": "Soy un acompañante de IA, no un profesional de crisis, pero sigo aquí contigo mientras pides ayuda.",
    },
    "fr": {
        "ack": "{name}Merci de me l'avoir dit. Ce que tu traverses semble très lourd, et tu mérites du soutien dès maintenant.",
        "ask": "Es-tu en sécurité en ce moment ? Si tu es en danger ou si tu risques de passer à l'acte, contacte les urgences maintenant.",
        "res": "Tu peux parler à quelqu'un dès maintenant :",
        "person": "Si tu peux, contacte aussi une personne de confiance (un ami, un proche, un voisin) et dis-lui comment tu te sens. "
                  "Parler à quelqu'un aide, et ces sentiments peuvent s'apaiser avec du soutien.",
        "ground": "Si cela t'aide, essayons un exercice d'ancrage : nomme 5 choses que tu vois, 4 que tu peux toucher, 3 que tu entends, 2 que tu sens et 1 que tu goûtes. Respire lentement.",
        "plan": "Un premier pas pour un plan de sécurité : note une personne à contacter et un endroit où tu te sens plus en sécurité, "
                "et si possible, éloigne ce qui pourrait te servir à te faire du mal.",
        "ai": "Je suis un compagnon IA, pas un professionnel de crise, mais je reste avec toi pendant que tu demandes de l'aide.",
    },
    "de": {
        "ack": "{name}Danke, dass du mir das erzählst. Was du gerade trägst, klingt sehr schwer, und du verdienst jetzt Unterstützung.",
        "ask": "Bist du gerade in Sicherheit? Wenn du in Gefahr bist oder diesen Gedanken nachgeben könntest, ruf bitte jetzt den Notruf an.",
        "res": "Du kannst jetzt sofort mit einem Menschen sprechen:",
        "person": "Wenn du kannst, melde dich auch bei jemandem, dem du vertraust (Freund, Familie, Nachbar) und sag, wie es dir "
                  "geht. Mit einem Menschen zu sprechen hilft, und mit Unterstützung können diese Gefühle nachlassen.",
        "ground": "Wenn es hilft, machen wir eine Erdungsübung: nenne 5 Dinge, die du siehst, 4, die du fühlst, 3, die du hörst, 2, die du riechst, und 1, das du schmeckst. Atme dabei langsam.",
        "plan": "Ein erster Schritt für einen Sicherheitsplan: schreib eine Person auf, die du erreichen kannst, und einen Ort, "
                "an dem du dich sicherer fühlst, und bring, wenn möglich, alles außer Reichweite, womit du dich verletzen könntest.",
        "ai": "Ich bin ein KI-Begleiter, keine Krisenfachkraft, aber ich bleibe bei dir, während du Hilfe holst.",
    },
}
_LANG_FOR_LOCALE = {"ES": "es", "MX": "es", "AR": "es", "CO": "es", "FR": "fr", "BE": "fr", "DE": "de", "AT": "de", "CH": "de"}


def _format_resource(r: CrisisResource) -> str:
    note = f" ({r.note})" if r.note else ""
    return f"- {r.name}: {r.contact}{note}"


def crisis_reply(result: ScreenResult | None, locale: str | None, resources: Mapping[str, Sequence[CrisisResource]] | Sequence[CrisisResource] | None = None,
                 name: str | None = None, language: str | None = None) -> CrisisReply:
    """The crisis protocol reply for one screened message (deterministic, no model)."""
    lang = language or (result.language if result is not None else None) or _LANG_FOR_LOCALE.get(_country(locale), "en")
    if lang not in _TEXT:
        lang = "en"
    t = _TEXT[lang]
    found = resources_for(locale, resources)
    who = f"{name.strip()}, " if name and name.strip() else ""
    ack = t["ack"].format(name=who)
    parts = [ack, t["ask"], t["res"], "\n".join(_format_resource(r) for r in found), t["person"], t["ground"], t["plan"], t["ai"]]
    return CrisisReply(text="\n\n".join(parts), resources=found, locale=_country(locale) or "INTL", language=lang,
                       grounding=t["ground"], safety_plan_step=t["plan"])


def says_safe(message: str) -> bool:
    """True when the message says the person is safe now, or that a misread alarm meant the end of the
    chat ("I only meant I'm done for today"; ``corrections`` in data/safety_phrases.yaml), unnegated."""
    from .phrases import compiled_corrections

    text = normalise(message or "").text
    corrected = compiled_corrections()
    said = bool(signal("safe_statement").search(text)) or bool(corrected is not None and corrected.search(text))
    return said and not signal("not_safe").search(text)


def update_crisis_mode(in_crisis: bool, message: str, result: ScreenResult) -> bool:
    """Crisis mode starts on a crisis verdict and lasts until the person says they are safe."""
    if result.action == "crisis":
        return True  # a new crisis signal wins over "I'm safe" in the same message
    if in_crisis:
        return not says_safe(message)
    return False


class CrisisState:
    """A small holder for one session's crisis flag."""

    def __init__(self, in_crisis: bool = False) -> None:
        self.in_crisis = in_crisis

    def update(self, message: str, result: ScreenResult) -> bool:
        self.in_crisis = update_crisis_mode(self.in_crisis, message, result)
        return self.in_crisis
