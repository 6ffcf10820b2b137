"""What the person is asking for, read by code (not by the model).

Intents: asking for music, asking for something different (with the change:
calmer, more upbeat, no piano...), stopping the music, asking why this
music, saying yes or no to an offer, saying goodbye. Goals map a stated aim
("help me sleep", "pump me up") to a target (valence, arousal) for the iso
arc. Matching is on lower-cased text with word boundaries; it is cheap and
testable, and it errs toward asking rather than acting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Intent", "read_intent", "GOALS"]


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_WHY = _rx(r"\bwhy\b.{0,30}\b(music|piece|song|tune|sound|instruments?|tempo|key|melody)\b",
           r"\bhow (does|will|can|would) (the|this|that) (music|piece|song)\b",
           r"\b(por qué|por que|pourquoi|warum)\b.{0,30}\b(música|musica|musique|musik|pieza|morceau|stück|stuck)\b",
           r"\bwhat made you (choose|pick|make)\b",
           r"\bwhy (this|that)( one)?\??$", r"\bexplain (the|this) (music|piece)", r"\bwhy music\b",
           r"\bwhat makes (this|it) (calming|relaxing)")
_STOP = _rx(r"^\s*(stop|pause|enough|turn it off|switch it off)\b", r"\bstop (the |this )?(music|piece|song|playing|it)\b",
            r"\b(turn|switch) (the |this )?(music|it) off\b", r"\bno more music\b", r"\bi don'?t want (any )?music\b")
_MUSIC = _rx(r"\b(play|make|compose|create|give|put on|want|need|like|try|hear|listen to)\b.{0,40}\b(music|song|piece|tune|melody|track|something (calm|calming|relaxing|soothing|upbeat|gentle|soft|energi[sz]ing))",
             r"\b(some|any) (music|tunes)\b", r"\bpump me up\b",
             r"\b(play|make|compose|put on|give me|find me)\b.{0,25}\b(something|anything)\b",
             r"\bsomething (calm|calming|relaxing|soothing|upbeat|gentle|soft|energi[sz]ing|lively|cheerful|happy|uplifting)\b",
             r"\b(can|could|may) i (have|get|hear)\b.{0,20}\b(something|some|a song|a piece)\b",
             r"\b(lift|perk|cheer) me up\b",
             r"\b(kannst|könntest|koenntest) du (mir )?(etwas|was)\b", r"\betwas \w+es (machen|spielen)\b",
             r"\bsomething (to|for) (help me )?(sleep|relax|calm|focus|wind down|unwind|get going|cheer|breathe|drift|listen|chill|study)",
             r"\bsomething to (breathe|drift off|fall asleep|relax) (with|to)\b", r"\bput (something|some music) on\b",
             # Spanish, French, German
             r"\b(música|musica|canción|cancion)\b", r"\b(me pones|ponme|pon) algo\b", r"\balgo para (relajarme|dormir|calmarme|animarme)\b",
             r"\bmusique\b", r"\bquelque chose pour (me détendre|me detendre|dormir|me calmer)\b", r"\bmets(-moi)? quelque chose\b",
             r"\bmusik\b", r"\betwas zum (entspannen|einschlafen|beruhigen)\b", r"\bspiel(e)? (mir )?etwas\b",
             r"\bmusic (please|would help|for)\b", r"^\s*(music|play something)\s*[.!]?\s*$",
             r"\banother (one|piece|song)\b", r"\bplay (it )?again\b")
_COMPARATIVE = r"(upbeat|energetic|lively|calm|calmer|slow|slower|fast|faster|quiet|quieter|soft|softer|gentle|gentler|cheerful|happy|happier|bright|brighter|louder|darker|livelier)"
_ER = r"(slower|faster|calmer|quieter|softer|gentler|happier|brighter|louder|darker|livelier|more upbeat|more energetic)"
_CHANGE = _rx(r"\b(more|a bit|a little|bit|make it|can (it|you) (be|go|make it)|could (it|you) (be|go|make it)|go|play it|way) " + _COMPARATIVE + r"\b",
              r"\bsomething " + _ER + r"\b",
              r"\b" + _COMPARATIVE + r"\s*(please|pls|instead)\b", r"^\s*" + _COMPARATIVE + r"\s*[.!]?\s*$",
              r"\btoo (fast|slow|loud|quiet|sad|dark|bright|busy|much)\b",
              r"\b(no|without|not the|less) (piano|strings|guitar|harp|flute|pad|choir|cello|violin|bells?|clarinet|synth)\b",
              r"\bsomething (else|different)\b", r"\bdifferent (music|piece|one|instrument)\b", r"\bchange (it|the music)\b")
_YES = _rx(r"^\s*(yes|yeah|yep|yup|sure|ok(ay)?|please( do)?|go ahead|sounds good|let'?s (do it|try)|why not|i'?d like that|alright|fine)\b")
_NO = _rx(r"^\s*(no|nope|nah|not (now|really|yet|today)|no thanks?|i'?d rather not|maybe later|don'?t)\b")
_BYE = _rx(r"\b(bye|goodbye|good night|see you|that'?s all|i'?m done|end (the )?session|gotta go|i have to go|talk later)\b")

#: stated aims -> (valence, arousal, words for it)
GOALS: list[tuple[re.Pattern[str], tuple[float, float, str]]] = [
    (_rx(r"\bsleep", r"\bwind down\b", r"\bdrift off\b", r"\binsomnia\b", r"\bcan'?t sleep\b", r"\bbed ?time\b",
         r"\bdrift", r"\bdormir\b", r"\beinschlafen\b", r"\bschlafen\b"), (0.1, -0.9, "ready for sleep")),
    (_rx(r"\bpump me up\b", r"\benergi[sz]", r"\bupbeat\b", r"\bget (me )?going\b", r"\bmotivat", r"\bwake (me )?up\b", r"\bmore energy\b", r"\blively\b",
         r"\bneed energy\b", r"\b(lift|perk) me\b", r"\bbeleb", r"\bschwung\b", r"\bénergi", r"\benergí"), (0.6, 0.6, "more energised")),
    (_rx(r"\bfocus", r"\bconcentrat", r"\bstudy"), (0.3, 0.0, "focused and steady")),
    (_rx(r"\bcheer (me )?up\b", r"\bhappier\b", r"\blift my mood\b", r"\bfeel better\b", r"\blighter\b"), (0.5, 0.1, "a little lighter")),
    (_rx(r"\bcalm", r"\brelax", r"\bsooth", r"\bunwind\b", r"\bless (anxious|stressed|tense)\b", r"\bchill\b", r"\bpeace",
         r"\bbreath", r"\brelaj", r"\bcalmarme\b", r"\bd[ée]tend", r"\bentspann", r"\bberuhig"), (0.3, -0.6, "calmer")),
]

_INSTRUMENT_WORDS = {"piano": "piano", "strings": "strings", "guitar": "guitar", "harp": "harp", "flute": "flute",
                     "pad": "pad", "choir": "choir", "cello": "cello", "violin": "violin", "bell": "glockenspiel",
                     "bells": "glockenspiel", "clarinet": "clarinet", "synth": "pad"}


@dataclass
class Intent:
    name: str  # why | stop | change | music | yes | no | bye | talk
    goal: tuple[float, float, str] | None = None
    avoid: list[str] = field(default_factory=list)  # instruments to leave out
    tempo_shift: int = 0  # -1 slower/calmer, +1 faster/livelier
    loudness_shift: int = 0


_AIM = _rx(r"\b(want|wanna|need|help me|would like|i'?d like|hoping|trying|wish) (to )?", r"\bsomething (to|for)\b",
           r"\bcan you\b", r"\bmusic (to|for)\b")


def state_words(text: str) -> str:
    """The text without its requests ("could you play something relaxing?").

    Words in a request describe where the person wants to go, not how they
    feel, so mood inference reads only the rest (when anything is left).
    """
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    kept = [s for s in sentences if not (_MUSIC.search(s.lower()) or _AIM.search(s.lower()))]
    return " ".join(kept) if kept else text


def read_intent(text: str) -> Intent:
    low = text.lower().strip()
    goal = next((g for rx, g in GOALS if rx.search(low)), None)
    if goal and not (_AIM.search(low) or _MUSIC.search(low) or _CHANGE.search(low)):
        goal = None  # "I feel calmer now" reports a state; it does not set a destination
    avoid = [_INSTRUMENT_WORDS[m.group(2)] for m in re.finditer(
        r"\b(no|without|not the|less) (piano|strings|guitar|harp|flute|pad|choir|cello|violin|bells?|clarinet|synth)\b", low)]
    tempo = 0
    if re.search(r"\b(upbeat|energetic|lively|faster|fast|livelier|happier|cheerful|brighter|pump|animarme|énergique|lebhaft)\b", low):
        tempo = 1
    elif re.search(r"\b(calm|calmer|slower|slow|gentle|quieter|softer|sleep|breathe|drift|relax|relajarme|dormir|détendre|detendre|entspannen|einschlafen)\b", low):
        tempo = -1
    loud = 1 if re.search(r"\blouder\b", low) else (-1 if re.search(r"\b(quieter|softer)\b", low) else 0)
    if _WHY.search(low):
        return Intent("why")
    if _STOP.search(low):
        return Intent("stop")
    if avoid or (_CHANGE.search(low) and not _NO.search(low) and not _MUSIC.search(low)):
        return Intent("change", goal=None, avoid=avoid, tempo_shift=tempo, loudness_shift=loud)
    if _MUSIC.search(low):
        return Intent("music", goal=goal, avoid=avoid, tempo_shift=tempo, loudness_shift=loud)
    if _BYE.search(low):
        return Intent("bye")
    if _YES.search(low):
        return Intent("yes", goal=goal)
    if _NO.search(low):
        return Intent("no")
    return Intent("talk", goal=goal)
