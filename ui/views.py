"""HTML fragments for the patient page: piece and library cards, players, crisis banner, pacer, help.

Pure functions from data to HTML strings, so they are tested without a
browser. ``gr.HTML`` does not sanitise, so every value that came from a
model, a file or a person is escaped here; only file URLs under the pieces
folder are linked (anything else is left out, never served).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote

__all__ = ["file_url", "piece_card", "pieces_panel", "crisis_banner", "help_panel", "pacer",
           "progress", "status", "resource_line", "library_card", "now_playing", "playlist_panel",
           "rating_change", "when", "code_line", "code_entered"]

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


def code_line(code: str) -> str:
    """This browser's own personal code, with an offer to write it down."""
    return ("<p class='your-code' role='note'>Your personal code on this browser: "
            f"<strong class='code' translate='no'>{_e(code)}</strong>. Write it down if you would like to come "
            "back from another device: enter it under <em>Returning?</em> below.</p>")


def code_entered() -> str:
    """What the code line says once the person continued with a code they typed."""
    return ("<p class='your-code' role='note'>You are continuing with the code you entered. This browser does "
            "not keep it: enter it again next time.</p>")


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


def _player(files: Mapping[str, Any], root: Path, title: str, autoplay: bool = False) -> str:
    """An audio element for a piece's OGG and WAV (the first the browser can play wins)."""
    audio_srcs = []
    for key, mime in (("ogg", "audio/ogg"), ("wav", "audio/wav"), ("mp3", "audio/mpeg")):
        url = file_url(files.get(key), root)
        if url:
            audio_srcs.append(f"<source src='{_e(url)}' type='{mime}'>")
    if not audio_srcs:
        return "<p class='msg msg-error' role='alert'>The audio for this piece is missing.</p>"
    # src on the element too: simple to test, and the same file every time it is played
    first = audio_srcs[0].split("src='", 1)[1].split("'", 1)[0]
    play = " autoplay" if autoplay else ""
    return (f"<audio controls preload='metadata'{play} src='{first}' aria-label='Play {_e(title)}'>"
            + "".join(audio_srcs) + "Your browser cannot play this audio; use the download.</audio>")


def piece_card(piece: Mapping[str, Any], root: Path, sources: Iterable[Mapping] = (), number: int = 1) -> str:
    """One piece: audio player, piano roll, downloads and a "Why this music" section."""
    pid = str(piece.get("piece_id") or piece.get("id") or number)
    plan = piece.get("plan") or {}
    secs = piece.get("seconds") or plan.get("seconds")
    length = f" · {clock(secs)}" if secs else ""
    title = f"Piece {number}{length}"
    audio = _player(piece, root, title)
    roll_url = file_url(piece.get("png"), root)
    # on a phone the picture keeps a readable size and scrolls sideways; a tap opens it full size
    roll = (f"<a class='roll-wrap' href='{_e(roll_url)}' target='_blank' rel='noopener' "
            f"title='Open the piano roll full size'><img class='roll' src='{_e(roll_url)}' alt='Piano roll of "
            f"{_e(title)}: notes over time, low notes at the bottom' loading='lazy'></a>") if roll_url else ""
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


def clock(seconds: float) -> str:
    """A length as an audio player shows it: 90 -> "1:30", 273 -> "4:33"."""
    whole = int(round(float(seconds)))
    return f"{whole // 60}:{whole % 60:02d}"


def pieces_panel(pieces: list[Mapping[str, Any]], root: Path) -> str:
    """All pieces of this session, newest first."""
    if not pieces:
        return ""
    cards = [piece_card(p["music"], root, p.get("sources") or (), n)
             for n, p in reversed(list(enumerate(pieces, start=1)))]
    return "<section class='pieces' aria-label='Your music'><h2>Your music</h2>" + "".join(cards) + "</section>"


def rating_choices(pieces: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(label, piece id) for the mood check's "This rating is for", newest first, numbered as the cards are."""
    out = []
    for n, p in reversed(list(enumerate(pieces, start=1))):
        m = p["music"]
        out.append((f"Piece {n} ({_num(round(m.get('seconds') or 0))} seconds)", m["piece_id"]))
    return out


# --- the library ("My music") ----------------------------------------------------------
_CHANGE_WORDS = (("valence", "sam_valence", "mood"), ("arousal", "sam_arousal", "energy"),
                 ("suds", "suds", "distress"))  # the same words as the mood-check sliders


def when(value: Any) -> str:
    """A stored time in the server's local time (the store writes UTC), e.g. "03 Mar 2025, 21:40"."""
    if not isinstance(value, datetime):
        return str(value or "")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone().strftime("%d %b %Y, %H:%M")


def _num(x: float) -> str:
    return f"{x:g}" if float(x) != int(x) else str(int(x))


def rating_change(entry: Any) -> str:
    """Before and after in words, e.g. "mood 4 → 6 (+2), distress 7 → 3 (−4)"; empty when unrated."""
    pre, post = entry.pre or {}, entry.post or {}
    parts = []
    for name, key, word in _CHANGE_WORDS:
        if name in entry.change:
            d = entry.change[name]
            sign = "+" if d > 0 else "−" if d < 0 else "±"
            parts.append(f"{word} {_num(pre[key])} → {_num(post[key])} ({sign}{_num(abs(d))})")
    if post.get("liking") is not None:
        parts.append(f"liked {_num(post['liking'])} of 5")
    return ", ".join(parts)


def _plan_line(entry: Any) -> str:
    bits = []
    if entry.key:
        bits.append(entry.key)
    if entry.tempo_bpm:
        lo, hi = entry.tempo_bpm
        bits.append(f"{lo:.0f} BPM" if round(lo) == round(hi) else f"{lo:.0f}–{hi:.0f} BPM")
    if entry.duration_s:
        bits.append(clock(entry.duration_s))
    if entry.instruments:
        bits.append(", ".join(dict.fromkeys(entry.instruments.values())))
    return " · ".join(bits)


def _arc_line(entry: Any) -> str:
    from attune.tools.music.plan import Mood, mood_words

    if not entry.start or not entry.target:
        return ""
    start = mood_words(Mood(valence=entry.start[0], arousal=entry.start[1]))
    goal = entry.target_words or mood_words(Mood(valence=entry.target[0], arousal=entry.target[1]))
    return f"From {start} toward {goal}."


def _tags(entry: Any, parent_dates: Mapping[str, str]) -> str:
    tags = []
    pl = entry.playlist or {}
    if pl:
        tags.append(f"<span class='tag'>{_e(pl.get('name') or 'Playlist')} {_e(pl.get('position'))} of "
                    f"{_e(pl.get('of'))}</span>")
    if entry.parent_id:
        made = parent_dates.get(entry.parent_id)
        tags.append(f"<span class='tag'>More like the piece from {_e(made)}</span>" if made
                    else "<span class='tag'>More like an earlier piece</span>")
    return "".join(tags)


def library_card(entry: Any, root: Path, parent_dates: Mapping[str, str] | None = None) -> str:
    """One piece of the library: date, favourite star, plan in brief, ratings change, why, downloads."""
    date = when(entry.created_at)
    star = ("<span class='star' role='img' aria-label='Favourite'>★</span> " if entry.favourite else "")
    change = rating_change(entry)
    rated = (f"<p class='lib-change'>Before → after: {_e(change)}</p>" if change
             else "<p class='lib-change lib-unrated'>Not rated yet: use the quick mood check before and "
                  "after listening.</p>")
    arc = _arc_line(entry)
    arc_html = f"<p class='lib-arc'>{_e(arc)}</p>" if arc else ""
    why = "".join(f"<li>{_e(line)}</li>" for line in entry.why)
    details = (f"<details class='why'><summary>Why this music</summary>"
               f"{'<ul>' + why + '</ul>' if why else '<p>No reasons were recorded for this piece.</p>'}</details>")
    links = []
    for key, label in (("midi", "MIDI"), ("wav", "WAV")):
        url = file_url(entry.files.get(key), root)
        if url:
            links.append(f"<a class='dl' href='{_e(url)}' download='{_e(Path(str(entry.files[key])).name)}'>"
                         f"Download {label}</a>")
    joined = file_url((entry.playlist or {}).get("file"), root)
    if joined:
        links.append(f"<a class='dl' href='{_e(joined)}' download='{_e(Path(entry.playlist['file']).name)}'>"
                     "Download the whole wind-down</a>")
    downloads = f"<nav class='downloads' aria-label='Downloads'>{''.join(links)}</nav>" if links else ""
    return (f"<article class='lib-piece{' is-favourite' if entry.favourite else ''}' data-piece-id='{_e(entry.id)}' "
            f"aria-label='Piece from {_e(date)}'>"
            f"<h3>{star}{_e(date)} {_tags(entry, parent_dates or {})}</h3>"
            f"<p class='lib-plan'>{_e(_plan_line(entry))}</p>"
            f"{arc_html}{rated}{details}{downloads}</article>")


def now_playing(entry: Any, root: Path, autoplay: bool = False, label: str = "Now playing", listen: str = "") -> str:
    """The player for a piece chosen in the library (the same stored file every time).

    ``listen`` marks one press of Replay: a new value redraws the player, so a
    second press plays the piece again from the start.
    """
    date = when(entry.created_at)
    player = _player(entry.files, root, f"the piece from {date}", autoplay=autoplay)
    return (f"<section class='now-playing' aria-label='{_e(label)}' data-piece-id='{_e(entry.id)}' "
            f"data-listen='{_e(listen)}'>"
            f"<h3>{_e(label)}: the piece from {_e(date)}</h3>{player}"
            f"<p class='lib-plan'>{_e(_plan_line(entry))}</p>"
            "<p class='hint'>Rate how you feel before and after with the quick mood check; "
            "the ratings go with this piece.</p></section>")


def playlist_panel(playlist: Any, root: Path) -> str:
    """A wind-down: one player for the joined file, its download, and the pieces in order."""
    url = file_url(playlist.file, root)
    from attune.agent.library import GAP_S

    # the joined file: the pieces plus the silence between them, written as its player shows it (4:33)
    total = sum(float(p.duration_s or 0) for p in playlist.pieces) + GAP_S * max(len(playlist.pieces) - 1, 0)
    items = "".join(f"<li>{_e(_plan_line(p))}; ends at {p.end_bpm:.0f} BPM</li>" for p in playlist.pieces
                    if p.end_bpm is not None)
    if url:
        name = Path(playlist.file).name
        kind = Path(playlist.file).suffix.lstrip(".").upper()
        body = (_player({Path(playlist.file).suffix.lstrip("."): playlist.file}, root, playlist.name)
                + f"<nav class='downloads' aria-label='Download the playlist'><a class='dl' href='{_e(url)}' "
                  f"download='{_e(name)}'>Download the wind-down ({kind}, {clock(total)}, one file)</a></nav>")
    else:
        body = "<p class='msg msg-error' role='alert'>The playlist file is missing.</p>"
    return (f"<section class='playlist' aria-label='{_e(playlist.name)}'><h3>{_e(playlist.name)}</h3>"
            "<p>Three pieces, each starting where the last ended and each slower and calmer, joined into one "
            "file with a short pause between pieces. Press play once and let it run.</p>"
            f"{body}<ol class='playlist-pieces'>{items}</ol></section>")
