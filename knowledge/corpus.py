"""The guidance corpus: Markdown files with validated YAML front matter.

A document is YAML front matter (``FrontMatter``, unknown keys forbidden)
followed by a Markdown body with ``##`` headings. This module parses and
validates documents, splits them into heading-sized chunks for the index and
hashes a corpus folder so the index can tell whether it is stale. It does not
touch chromadb or the embedding model (see ``index.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.resources
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from attune.common.errors import InputError

__all__ = [
    "Source", "FrontMatter", "Section", "Document", "Chunk", "Problem", "EvidenceLevel",
    "core_corpus_dir", "parse_document", "load_document", "load_plain_text", "load_corpus",
    "folder_hash", "chunk_document", "slugify",
]

# Bumped when parsing or chunking changes, so that every stored index is rebuilt.
CHUNKER_VERSION = "2"
MAX_CHUNK_CHARS = 1200  # characters of section text per chunk; MiniLM reads ~256 word pieces
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

EvidenceLevel = Literal[
    "systematic-review", "rct", "experimental", "observational", "validated-instrument",
    "expert-consensus", "practice-guidance", "clinician-provided",
]


def slugify(text: str) -> str:
    """``"Music & Sleep: a guide"`` -> ``"music-sleep-a-guide"`` (ASCII, may be empty)."""
    text = text.lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


class Source(BaseModel):
    """One reference a clinician can look up: a DOI or a URL is required."""

    model_config = ConfigDict(extra="forbid")

    authors: str = Field(min_length=1)
    year: int = Field(ge=1800, le=2100)
    title: str = Field(min_length=1)
    venue: str = Field(min_length=1)
    doi: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _locatable(self) -> "Source":
        if not (self.doi or self.url):
            raise ValueError("a source needs a doi or a url so that it can be checked")
        return self

    def short(self) -> str:
        """``"Aalbers et al. 2017"``; an organisation keeps its whole name."""
        parts = [p.strip() for p in re.split(r",|;", self.authors) if p.strip()] or [self.authors]
        names = [self._surname(p) for p in parts[:2]]
        if len(parts) == 1:
            who = names[0]
        elif len(parts) == 2 and parts[1] != "et al.":
            who = f"{names[0]} & {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who} {self.year}"

    @staticmethod
    def _surname(author: str) -> str:
        words = author.split()
        # "Aalbers S" -> "Aalbers": drop the initials of a Vancouver-style name
        if len(words) > 1 and words[-1].isupper() and len(words[-1]) <= 3:
            return " ".join(words[:-1])
        return author if len(author) <= 60 else author[:57] + "..."

    def reference(self) -> str:
        """A full reference line: authors (year). Title. Venue. doi or url."""
        where = f"doi:{self.doi}" if self.doi else self.url
        return f"{self.authors} ({self.year}). {self.title}. {self.venue}. {where}"


class FrontMatter(BaseModel):
    """The YAML header every corpus document carries."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG_PATTERN, max_length=120)
    title: str = Field(min_length=3)
    topics: list[str] = Field(min_length=1)
    conditions: list[str] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    evidence_level: EvidenceLevel
    last_reviewed: dt.date

    @field_validator("topics", "conditions")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        tags = [v.strip().lower() for v in values]
        bad = [t for t in tags if not re.match(SLUG_PATTERN, t)]
        if bad:
            raise ValueError(f"tags must be lower-case slugs such as 'low-mood', got {bad}")
        return tags


class Section(BaseModel):
    heading: str
    slug: str
    text: str


class Document(BaseModel):
    """A validated document: front matter, body and where it came from."""

    meta: FrontMatter
    body: str
    path: str  # shown in messages; not part of the citation

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def source_summary(self) -> str:
        return "; ".join(s.short() for s in self.meta.sources)

    def sections(self) -> list[Section]:
        return split_sections(self.body)

    def word_count(self) -> int:
        return len(re.findall(r"\b\w[\w'-]*\b", self.body))

    def to_markdown(self) -> str:
        header = yaml.safe_dump(self.meta.model_dump(mode="json", exclude_none=True),
                                sort_keys=False, allow_unicode=True)
        return f"---\n{header}---\n\n{self.body.strip()}\n"


class Chunk(BaseModel):
    """One indexed passage: a ``##`` section (or part of a long one)."""

    id: str  # "<doc-id>#<section-slug>", stable for citation
    doc_id: str
    title: str
    heading: str
    text: str

    def embed_text(self) -> str:
        # The title gives a short section context it would otherwise lack.
        return f"{self.title}. {self.heading}.\n{self.text}"


class Problem(BaseModel):
    """A document that could not be indexed, and why."""

    path: str
    message: str


_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(.*)\Z", re.S)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "front matter"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is missing"
        elif err["type"] == "extra_forbidden":
            msg = "is not a known field"
        parts.append(f"{loc} {msg}")
    return "; ".join(parts)


def parse_document(text: str, name: str) -> Document:
    """Parse one Markdown document; ``InputError`` names ``name`` and the problem."""
    match = _FRONT.match(text.lstrip("\ufeff"))
    if not match:
        raise InputError(f"{name}: no YAML front matter (the file must start with a '---' block).")
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise InputError(f"{name}: the front matter is not valid YAML ({exc}).") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: the front matter must be a mapping of fields.")
    try:
        meta = FrontMatter.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{name}: bad front matter: {_describe(exc)}.") from None
    body = match.group(2).strip()
    if not body:
        raise InputError(f"{name}: the document has no body text.")
    return Document(meta=meta, body=body, path=name)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read as UTF-8 text ({exc}).") from None


def load_document(path: Path) -> Document:
    return parse_document(_read(path), path.name)


def load_plain_text(path: Path, clinic: str, today: dt.date | None = None) -> Document:
    """Wrap a plain-text (or header-less Markdown) file in minimal front matter.

    The id is generated from the clinic and file name, so re-adding the same
    file replaces it instead of duplicating it.
    """
    text = _read(path).strip()
    if not text:
        raise InputError(f"{path.name}: the file is empty.")
    today = today or dt.date.today()
    first = text.splitlines()[0].lstrip("# ").strip()
    title = first if 3 <= len(first) <= 120 else path.stem.replace("_", " ").replace("-", " ")
    stem = slugify(path.stem) or hashlib.sha1(text.encode()).hexdigest()[:8]
    meta = FrontMatter(
        id=f"clinic-{slugify(clinic)}-{stem}"[:120].strip("-"),
        title=title if len(title) >= 3 else f"Clinic note {stem}",
        topics=["clinic"],
        conditions=["general"],
        sources=[Source(authors=f"Clinic {clinic}", year=today.year, title=title,
                        venue="Clinician-provided document", url=path.resolve().as_uri())],
        evidence_level="clinician-provided",
        last_reviewed=today,
    )
    return Document(meta=meta, body=text, path=path.name)


def core_corpus_dir() -> Path:
    """The corpus shipped as package data."""
    return Path(str(importlib.resources.files("attune.knowledge") / "corpus"))


def corpus_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.md") if p.is_file())


def load_corpus(directory: Path) -> tuple[list[Document], list[Problem]]:
    """Every valid document in ``directory``; bad ones become ``Problem`` rows."""
    docs: list[Document] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in corpus_files(directory):
        try:
            doc = load_document(path)
        except InputError as exc:
            problems.append(Problem(path=path.name, message=str(exc)))
            continue
        if doc.id in seen:
            problems.append(Problem(path=path.name,
                                    message=f"{path.name}: id {doc.id!r} is already used by {seen[doc.id]}."))
            continue
        seen[doc.id] = path.name
        docs.append(doc)
    return docs, problems


def folder_hash(directory: Path) -> str:
    """SHA-256 over the chunker version and every ``*.md`` file's name and bytes."""
    digest = hashlib.sha256(f"chunker={CHUNKER_VERSION}\n".encode())
    for path in corpus_files(directory):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def split_sections(body: str) -> list[Section]:
    """Split a body at ``## `` headings; text before the first becomes "Overview"."""
    sections: list[Section] = []
    heading, lines = "Overview", []
    for line in body.splitlines():
        if line.startswith("## "):
            sections.append(Section(heading=heading, slug="", text="\n".join(lines).strip()))
            heading, lines = line[3:].strip(), []
        elif line.startswith("# ") and not sections and not lines:
            continue  # a top-level title repeats the front matter title
        else:
            lines.append(line)
    sections.append(Section(heading=heading, slug="", text="\n".join(lines).strip()))
    used: dict[str, int] = {}
    out = []
    for s in sections:
        if not s.text:
            continue
        base = slugify(s.heading) or "section"
        used[base] = used.get(base, 0) + 1
        slug = base if used[base] == 1 else f"{base}-{used[base]}"
        out.append(Section(heading=s.heading, slug=slug, text=s.text))
    return out


def _split_long(text: str, limit: int) -> list[str]:
    """Pack paragraphs (then sentences) into parts of at most ``limit`` characters."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        if len(para) <= limit:
            pieces.append(para)
        else:
            pieces.extend(s for s in re.split(r"(?<=[.!?])\s+", para) if s)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > limit:  # a single run-on sentence: cut hard
            if current:
                parts.append(current)
                current = ""
            parts.append(piece[:limit])
            piece = piece[limit:]
        if current and len(current) + 2 + len(piece) > limit:
            parts.append(current)
            current = piece
        else:
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        parts.append(current)
    return parts


def chunk_document(doc: Document, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    chunks = []
    for section in doc.sections():
        parts = _split_long(section.text, max_chars)
        for i, part in enumerate(parts, start=1):
            suffix = "" if i == 1 else f"-{i}"
            heading = section.heading if len(parts) == 1 else f"{section.heading} ({i}/{len(parts)})"
            chunks.append(Chunk(id=f"{doc.id}#{section.slug}{suffix}", doc_id=doc.id,
                                title=doc.meta.title, heading=heading, text=part))
    return chunks
