"""Read a message robustly before any rule sees it.

Two views come out of ``normalise``:

* ``light``: NFKC, zero-width characters removed, Cyrillic/Greek look-alikes
  mapped to Latin inside words that mix them with Latin letters, case folded. Punctuation is kept, so chat-template tokens
  (``<|im_start|>``) and citation brackets can still be seen.
* ``text``: ``light`` plus accents stripped, apostrophes dropped ("i'm" ->
  "im"), leetspeak undone inside words ("k1ll" -> "kill"), spaced-out letters
  joined ("k i l l" -> "kill"), letter runs shortened ("diiiie" -> "die"), a
  few emoji named, punctuation turned into spaces, and likely typos of a short
  list of risk words corrected by edit distance ("suicde" -> "suicide").
  Letters of every script are kept (a message in Russian, Arabic, Hindi or
  Chinese was once reduced to nothing here, and so screened as empty).

What it leaves out: spelling correction of ordinary words, and translation.
Slang and euphemism ("kms", "unalive") are matched by the phrase rules, not
rewritten here, so the audit log names the rule that fired.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalised", "normalise", "detect_language", "osa_distance", "FUZZY_TARGETS"]

# Invisible characters used to split words past a filter.
_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f\u061c"),
    None,
)

# Look-alike letters that NFKC leaves alone (a small confusables map:
# Cyrillic and Greek letters that render like Latin ones). They are mapped only inside
# a word that also has a Latin letter ("kіll" with a Cyrillic і): a word written wholly
# in Cyrillic or Greek is a word of that language and stays as written.
_LOOKALIKES = str.maketrans({
    # Cyrillic lower
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ӏ": "l", "ɡ": "g", "ԛ": "q", "ԝ": "w", "ь": "b", "п": "n",
    "и": "u", "г": "r", "д": "d", "л": "l", "з": "3",
    # Cyrillic upper
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p",
    "С": "c", "Т": "t", "У": "y", "Х": "x", "І": "i", "Ј": "j", "Ѕ": "s", "Ӏ": "l",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "s", "σ": "o", "μ": "u",
    "Α": "a", "Β": "b", "Ε": "e", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "Ζ": "z",
})
_ALWAYS = str.maketrans({
    # Latin oddities
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ß": "ss", "æ": "ae", "œ": "oe",
    # quotes
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
})

_EMOJI_WORDS = {
    "\U0001FAA2": " rope ", "\U0001F48A": " pills ", "\U0001F52B": " gun ", "\U0001F52A": " knife ",
    "\u26B0": " coffin ", "\U0001FA78": " blood ", "\U0001FA92": " razor ",
}
_EMOJI_RE = re.compile("|".join(map(re.escape, _EMOJI_WORDS)))

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "9": "g", "@": "a", "$": "s", "!": "i", "*": "i", "|": "l", "+": "t"})
# a word with a leet character inside it (k1ll, mys3lf, su!c!de, d13), or a leading @/$
_LEET_TOKEN = re.compile(r"(?<![\w@$!*|+])(?:[a-z][a-z0-9@$!*|+]*[0-9@$!*|+][a-z0-9@$!*|+]*[a-z0-9]|[@$][a-z]{2,}[a-z0-9@$!*]*|[tngd]0)(?![\w@$!*|+])")
# runs of three or more single characters split by spaces or marks: "k i l l", "k.i.l.l", "k-i-l-l"
_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z0-9][ .\-_*~/]{1,3}){2,}[a-z0-9](?![a-z0-9])")
_SPACED_WORDS = ("kill", "hang", "killmyself", "killme", "kms", "suicide", "suicidal", "wanttodie", "iwanttodie",
                 "endmylife", "endit", "die", "overdose", "hangmyself", "unalive", "selfharm", "cutmyself")
_SPACED_SPLIT = {
    "iwanttodie": "i want to die", "wanttodie": "want to die", "killmyself": "kill myself",
    "killme": "kill me", "endmylife": "end my life", "endit": "end it", "hangmyself": "hang myself",
    "selfharm": "self harm", "cutmyself": "cut myself",
}
_REPEATS = re.compile(r"([a-z])\1{2,}")
# not part of a word: anything but letters and digits of any script, their combining marks (Devanagari,
# Bengali, Tamil... vowel signs; Arabic and Hebrew vowels; Thai) and "%"; the underscore too
_NON_WORD = re.compile(r"(?:[^\w%\u0300-\u036f\u0483-\u0487\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670"
                       r"\u06d6-\u06ed\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f\u3099\u309a]|_)+")
_WORD5 = re.compile(r"\b[a-z]{5,13}\b")

# Risk words whose typos we correct. Short words (kill, die, pills) are left to
# tolerant regexes: at edit distance one they collide with will, pill, dye.
FUZZY_TARGETS = (
    "suicide", "suicidal", "myself", "overdose", "overdosed", "unalive", "hopeless",
    "worthless", "selbstmord", "umbringen", "suicidarme", "suicider", "sterben",
    "lebensmude", "yourself", "stockpiling",
)
# Real words near a target that must stay as they are.
_FUZZY_KEEP = frozenset({
    "itself", "himself", "herself", "myselfs", "overdue", "overdoes", "overdone", "overdress",
    "suicides", "yourselves", "thyself", "mysql", "sterne", "stereo", "hopeful", "hopefuls",
    "pointed", "pointer", "points", "outlive", "unalike", "unlive", "ourself", "worthies",
    "umbrella", "suited", "painless", "pointless", "hopefully", "workless", "sucide",  # 'sucide' is handled below as a typo; listed for clarity
} - {"sucide"})


@dataclass(frozen=True, slots=True)
class Normalised:
    """The two views of one message (see module docstring)."""

    light: str
    text: str
    language: str


def osa_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (Levenshtein plus swaps), cut at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        best = i
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, prev2[j - 2] + 1)
            cur[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=65536)
def _fuzzy_word(word: str) -> str:
    if word in FUZZY_TARGETS or word in _FUZZY_KEEP:
        return word
    for target in FUZZY_TARGETS:
        limit = 1 if len(target) <= 8 else 2
        if abs(len(word) - len(target)) > limit or word[0] != target[0]:
            continue
        if osa_distance(word, target, limit) <= limit:
            return target
    return word


# Frequent misspellings of short risk words, too short for edit distance.
_TYPOS = {"lfie": "life", "lief": "life", "kiil": "kill", "kil": "kill", "slef": "self", "mysefl": "myself",
          "wnat": "want", "wana": "wanna", "diee": "die", "thinkin": "thinking", "bout": "about", "suicid": "suicide",
          "tierd": "tired", "tird": "tired", "dissapear": "disappear", "disapear": "disappear", "dissappear": "disappear",
          "livng": "living", "lving": "living"}
_TYPO_RE = re.compile(r"\b(?:" + "|".join(_TYPOS) + r")\b")


def _unleet(match: re.Match[str]) -> str:
    return match.group(0).translate(_LEET)


def _join_spaced(match: re.Match[str]) -> str:
    joined = re.sub(r"[ .\-_*~/]", "", match.group(0))
    joined = joined.translate(_LEET)
    if any(word in joined for word in _SPACED_WORDS):
        for compact, spaced in _SPACED_SPLIT.items():
            if compact in joined:
                joined = joined.replace(compact, f" {spaced} ")
        return f" {joined} "
    return match.group(0)


# a run of letters of any script (digits and the underscore are not letters)
_LETTERS = re.compile(r"[^\W\d_]+")
_ASCII_LETTER = re.compile(r"[a-zA-Z]")
_LOOKALIKE = re.compile("[" + "".join(re.escape(chr(c)) for c in _LOOKALIKES) + "]")
# combining marks after a Latin letter, once decomposed: "é" -> "e" + U+0301
_LATIN_MARKS = re.compile(r"(?<=[a-zA-Z])[\u0300-\u036f]+")


def _unmask_lookalikes(text: str) -> str:
    """Look-alike letters mapped to Latin inside words that mix them with Latin letters."""
    if text.isascii() or not _ASCII_LETTER.search(text) or not _LOOKALIKE.search(text):
        return text  # (C-speed checks: a megabyte of Russian never reaches the word loop)

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.isascii() or not any("a" <= ch.lower() <= "z" for ch in word):
            return word
        return word.translate(_LOOKALIKES)

    return _LETTERS.sub(one, text)


def _strip_accents(text: str) -> str:
    """Accents off Latin letters ("é" -> "e"); the marks of other scripts (Devanagari vowel signs, Arabic
    vowels, Cyrillic "й") are part of their letters and stay."""
    if text.isascii():  # nothing to strip (a C check)
        return text
    return unicodedata.normalize("NFC", _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text)))


_LANG_WORDS = {
    "es": frozenset("que de la el los las no quiero estoy mi me y por para una un es con muy pero mas ya todo nada vida morir tengo siento".split()),
    "fr": frozenset("je suis le la les des une un et ne pas plus mon ma mes est avec pour tout rien vie mourir jai veux envie cest".split()),
    "de": frozenset("ich bin nicht und der die das ein eine mein meine ist mit fur mich mir alles nichts leben sterben will mehr habe".split()),
    "en": frozenset("i the a and to of is it my me you not want am im dont feel this that with for so just".split()),
}


def detect_language(text: str) -> str:
    """Crude language guess from function words: en, es, fr or de (default en)."""
    words = text.split()[:400]
    if not words:
        return "en"
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _LANG_WORDS.items()}
    best = max(counts, key=lambda lang: (counts[lang], lang == "en"))
    return best if counts[best] > counts["en"] else "en"


def normalise(message: str) -> Normalised:
    """Both views of ``message``; linear in its length (fine for a megabyte)."""
    text = unicodedata.normalize("NFKC", message).translate(_ZERO_WIDTH)
    text = _unmask_lookalikes(text.translate(_ALWAYS))
    text = _EMOJI_RE.sub(lambda m: _EMOJI_WORDS[m.group(0)], text)
    light = text.casefold()
    text = _strip_accents(light).replace("'", "")
    text = _LEET_TOKEN.sub(_unleet, text)
    text = _SPACED.sub(_join_spaced, text)
    text = _REPEATS.sub(r"\1", text)
    text = _NON_WORD.sub(" ", text).strip()
    text = _TYPO_RE.sub(lambda m: _TYPOS[m.group(0)], text)
    text = _WORD5.sub(lambda m: _fuzzy_word(m.group(0)), text)
    return Normalised(light=light, text=text, language=detect_language(text))
