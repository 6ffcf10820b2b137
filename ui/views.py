"""HTML fragments for the patient page: piece cards, crisis banner, pacer, help.

Pure functions from data to HTML strings, so they are tested without a
browser. ``gr.HTML`` does not sanitise, so every value that came from a
model, a file or a person is escaped here; only file URLs under the pieces
folder are linked (anything else is left out, never served).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

__all__ = ["file_url", "piece_card", "pieces_panel", "crisis_banner", "help_panel", "pacer",
           "progress", "status", "resource_line"]

FILE_ROUTE = "/gradio_api/file="  # Gradio 6 serves allowed paths here


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def file_url(path: str | Path | None, root: Path) -> str | None:
    """The served URL of a file inside ``root`` (the pieces folder), else None."""
    if not path:
        return None
    p = Path(path).resolve()
    try:
        p.relative_to(Path(root).resolve())
    except ValueError:
        return None  # outside the pieces folder: never linked
    if not p.is_file():
        return None
    return FILE_ROUTE + quote(str(p), safe="/")


def resource_line(res: Mapping[str, Any]) -> str:
    """One crisis resource; phone numbers become tel: links, web addresses links."""
    name, contact = res.get("name", ""), str(res.get("contact", ""))
    note, kind = res.get("note", ""), res.get("kind", "")
    digits = contact.replace(" ", "")
    if contact.startswith(("http://", "https://")):
        link = f'<a href="{_e(contact)}" target="_blank" rel="noopener">{_e(contact)}</a>'
    elif digits.isdigit() and kind != "text":
        link = f'<a href="tel:{_e(digits)}">{_e(contact)}</a>'
    else:
        link = f"<strong>{_e(contact)}</strong>"
    extra = f" <span class='res-note'>{_e(note)}</span>" if note else ""
    return f"<li><span class='res-name'>{_e(name)}</span>: {link}{extra}</li>"


def _as_dicts(resources: Iterable[Any]) -> list[dict]:
    return [r.model_dump() if hasattr(r, "model_dump") else dict(r) for r in resources]


def crisis_banner(resources: Iterable[Any], locale: str = "") -> str:
    items = "".join(resource_line(r) for r in _as_dicts(resources))
    where = f" ({_e(locale)})" if locale else ""
    return (
        "<section class='crisis-banner' role='alert' aria-labelledby='crisis-title'>"
        "<h2 id='crisis-title'>You deserve support right now</h2>"
        "<p>If you are in danger or might act on these thoughts, contact emergency services now. "
        f"You can reach a person at any time{where}:</p>"
        f"<ul class='resources'>{items}</ul>"
        "<p>Attune is an AI companion, not a crisis service. Please reach out to someone now.</p>"
        "</section>"
    )


def help_panel(resources: Iterable[Any], locale: str = "") -> str:
    items = "".join(resource_line(r) for r in _as_dicts(resources))
    where = f" ({_e(locale)})" if locale else ""
    return (
        "<section class='help-panel' aria-labelledby='help-title'>"
        f"<h2 id='help-title'>Get help now{where}</h2>"
        "<p>If you are in danger, call your local emergency number. These services answer at any time:</p>"
        f"<ul class='resources'>{items}</ul></section>"
    )


def pacer(breaths_per_minute: float | None) -> str:
    """A circle that grows on the in-breath and shrinks on the out-breath (empty when unpaced)."""
    if not breaths_per_minute:
        return ""
    bpm = max(2.0, min(20.0, float(breaths_per_minute)))
    seconds = 60.0 / bpm  # one full breath, seconds
    return (
        "<section class='pacer' aria-label='Breathing pacer'>"
        f"<div class='pacer-circle' style='animation-duration:{seconds:.2f}s' aria-hidden='true'></div>"
        f"<p>Breathe in as the circle grows and out as it shrinks: {bpm:g} breaths a minute, "
        f"about {seconds / 2:.0f} seconds in and {seconds / 2:.0f} seconds out.</p></section>"
    )


def progress(text: str) -> str:
    if not text:
        return ""
    return (f"<div class='progress' role='status' aria-live='polite'><span class='spinner' aria-hidden='true'>"
            f"</span>{_e(text)}</div>")


def status(text: str, kind: str = "ok") -> str:
    """A short result line: ``ok`` (polite status) or ``error`` (alert)."""
    if not text:
        return ""
    role = "alert" if kind == "error" else "status"
    return f"<p class='msg msg-{_e(kind)}' role='{role}'>{_e(text)}</p>"


def _sources(sources: Iterable[Mapping[str, Any]]) -> str:
    items = []
    for s in sources or []:
        title = s.get("title") or s.get("id") or "Passage"
        origin = f" <cite>{_e(s['source'])}</cite>" if s.get("source") else ""
        text = str(s.get("text") or "")
        excerpt = text if len(text) <= 400 else text[:400].rsplit(" ", 1)[0] + "…"
        items.append(f"<li><strong>{_e(title)}</strong>{origin}<blockquote>{_e(excerpt)}</blockquote></li>")
    if not items:
        return ""
    return "<h4>Guidance this draws on</h4><ol class='sources'>" + "".join(items) + "</ol>"


def piece_card(piece: Mapping[str, Any], root: Path, sources: Iterable[Mapping] = (), number: int = 1) -> str:
    """One piece: audio player, piano roll, downloads and a "Why this music" section."""
    pid = str(piece.get("piece_id") or piece.get("id") or number)
    plan = piece.get("plan") or {}
    secs = piece.get("seconds") or plan.get("seconds")
    length = f" · {float(secs) / 60:.1f} min" if secs else ""
    title = f"Piece {number}{length}"
    audio_srcs = []
    for key, mime in (("ogg", "audio/ogg"), ("wav", "audio/wav")):
        url = file_url(piece.get(key), root)
        if url:
            audio_srcs.append(f"<source src='{_e(url)}' type='{mime}'>")
    if audio_srcs:
        # the first source the browser can play wins; src on the element keeps it simple to test
        first = audio_srcs[0].split("src='", 1)[1].split("'", 1)[0]
        audio = (f"<audio controls preload='metadata' src='{first}' aria-label='Play {_e(title)}'>"
                 + "".join(audio_srcs) + "Your browser cannot play this audio; use the WAV download.</audio>")
    else:
        audio = "<p class='msg msg-error' role='alert'>The audio for this piece is missing.</p>"
    roll_url = file_url(piece.get("png"), root)
    roll = (f"<img class='roll' src='{_e(roll_url)}' alt='Piano roll of {_e(title)}: notes over time, "
            "low notes at the bottom' loading='lazy'>") if roll_url else ""
    links = []
    for key, label in (("midi", "MIDI"), ("musicxml", "MusicXML (sheet music)"), ("wav", "WAV audio")):
        url = file_url(piece.get(key), root)
        if url:
            name = Path(str(piece.get(key))).name
            links.append(f"<a class='dl' href='{_e(url)}' download='{_e(name)}'>Download {label}</a>")
    downloads = f"<nav class='downloads' aria-label='Downloads for {_e(title)}'>{''.join(links)}</nav>" if links else ""
    why = "".join(f"<li>{_e(line)}</li>" for line in piece.get("why") or [])
    bpm = piece.get("breaths_per_minute")
    paced = f"<p>Paced for breathing at {float(bpm):g} breaths a minute.</p>" if bpm else ""
    details = (f"<details class='why'><summary>Why this music</summary>"
               f"{'<ul>' + why + '</ul>' if why else '<p>No reasons were recorded for this piece.</p>'}"
               f"{paced}{_sources(sources)}</details>")
    return (f"<article class='piece' data-piece-id='{_e(pid)}' aria-label='{_e(title)}'>"
            f"<h3>{_e(title)}</h3>{audio}{roll}{downloads}{details}</article>")


def pieces_panel(pieces: list[Mapping[str, Any]], root: Path) -> str:
    """All pieces of this session, newest first."""
    if not pieces:
        return ""
    cards = [piece_card(p["music"], root, p.get("sources") or (), n)
             for n, p in reversed(list(enumerate(pieces, start=1)))]
    return "<section class='pieces' aria-label='Your music'><h2>Your music</h2>" + "".join(cards) + "</section>"
