"""Which rules could match a long text, found in one linear pass (RE2), before Python's ``re`` runs them.

Python's ``re`` backtracks, and 207 rules each searching a megabyte took 10-16 s. RE2 matches in
time linear in the text, and an ``re2.Set`` reads the text once for all patterns together. RE2 has
no lookaround and an ASCII ``\\b`` and ``\\w``, so each rule is *loosened* first: lookarounds and word
boundaries are dropped and ``\\w``, ``\\d``, ``\\s`` widened to their Unicode sets (``\\W`` and the other
complements to any character). A loosened pattern matches wherever the rule does, and sometimes
where it does not; so a rule the set does not report cannot match, and only the reported ones are
run again with ``re`` for the real answer. Short texts skip all this: ``re`` is quicker there, and
the set is compiled only when the first long text arrives.

The superset property is what safety rests on: tests check it on every message of the team's sets
and on random Unicode text.
"""

from __future__ import annotations

import threading
from typing import Sequence

__all__ = ["loosen", "Prefilter", "LONG_TEXT", "search"]

LONG_TEXT = 20_000  # characters; below this every rule runs with ``re`` as before

_WIDE = {"w": r"\pL\pN\pM_", "d": r"\pN", "s": r"\s\pZ\x1c-\x1f\x85\x0b"}
_ANY = "(?s:.)"


def _group_end(p: str, i: int) -> int:
    """Index just past the group that opens at ``p[i] == "("``."""
    depth, in_class = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if p[i + 1:i + 2] == "]" or p[i + 1:i + 3] == "^]":  # a literal "]" first in a class
                i += 2 if p[i + 1] == "]" else 3
                continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced group")


def loosen(pattern: str) -> str:
    """A pattern for RE2 that matches wherever ``pattern`` (Python syntax) matches under ``re``."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if e in "bB" and not in_class:
                pass  # a word boundary only narrows
            elif e in _WIDE:
                out.append(_WIDE[e] if in_class else f"[{_WIDE[e]}]")
            elif e in "WDS":
                if in_class:
                    raise ValueError("a complement inside a class")  # the caller keeps the rule always on
                out.append(_ANY)
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "^" and out and out[-1] == "[":
                raise ValueError("a negated class")  # its Unicode reading differs; keep the rule always on
            in_class = c != "]"
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            i = _group_end(pattern, i)  # a lookaround only narrows
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class Prefilter:
    """The rules (Python patterns, in order) that an ``re2.Set`` says could match a text."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._patterns = list(patterns)
        self._set = None
        self._always: list[int] = []
        self._slot: list[int] = []  # set index -> rule index
        self._lock = threading.Lock()

    def _build(self) -> None:
        import re2

        options = re2.Options()
        options.max_mem = 512 << 20
        built = re2.Set.SearchSet(options)
        for k, pattern in enumerate(self._patterns):
            try:
                loose = loosen(pattern)
                re2.compile(loose, options)
            except Exception:  # noqa: BLE001 - not expressible for RE2: the rule always runs
                self._always.append(k)
                continue
            built.Add(loose)
            self._slot.append(k)
        built.Compile()
        self._set = built

    def candidates(self, text: str) -> set[int]:
        """Indices of the patterns that may match ``text``; every one that does is among them."""
        with self._lock:
            if self._set is None:
                self._build()
        return {self._slot[j] for j in self._set.Match(text) or ()} | set(self._always)


_single: dict[str, object] = {}
_single_lock = threading.Lock()


def search(pattern, text: str):
    """``pattern.search(text)``, skipped for a long text when the loosened pattern finds nothing (RE2)."""
    if len(text) < LONG_TEXT:
        return pattern.search(text)
    with _single_lock:
        if pattern.pattern not in _single:
            import re2

            try:
                _single[pattern.pattern] = re2.compile(loosen(pattern.pattern))
            except Exception:  # noqa: BLE001 - not expressible for RE2: always searched with re
                _single[pattern.pattern] = None
        loose = _single[pattern.pattern]
    if loose is not None and loose.search(text) is None:
        return None
    return pattern.search(text)
