"""Corpus documents: front matter validation, chunking, plain-text wrapping."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from attune.common.errors import InputError
from attune.knowledge.corpus import (
    chunk_document, core_corpus_dir, folder_hash, load_corpus, load_document, load_plain_text,
    parse_document,
)

GOOD = textwrap.dedent("""\
    ---
    id: sample-doc
    title: A sample document
    topics: [sleep]
    conditions: [insomnia]
    sources:
      - {authors: "Doe J, Roe R", year: 2020, title: A study, venue: A journal, doi: 10.1000/xyz}
    evidence_level: rct
    last_reviewed: 2025-01-01
    ---

    ## First part

    Some text about sleep.

    ## Second part

    More text.
    """)


def _variant(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


BAD = {
    "missing-id": (_variant("id: sample-doc\n", ""), "id is missing"),
    "missing-sources": (_variant("sources:\n  - {authors: \"Doe J, Roe R\", year: 2020, title: A study, venue: A journal, doi: 10.1000/xyz}\n", ""), "sources is missing"),
    "empty-sources": (_variant("sources:\n  - {authors: \"Doe J, Roe R\", year: 2020, title: A study, venue: A journal, doi: 10.1000/xyz}\n", "sources: []\n"), "sources"),
    "source-without-doi-or-url": (_variant(", doi: 10.1000/xyz", ""), "doi or a url"),
    "unknown-field": (_variant("evidence_level: rct\n", "evidence_level: rct\nrating: 5\n"), "rating is not a known field"),
    "bad-evidence-level": (_variant("evidence_level: rct", "evidence_level: anecdote"), "evidence_level"),
    "bad-date": (_variant("last_reviewed: 2025-01-01", "last_reviewed: soon"), "last_reviewed"),
    "id-not-a-slug": (_variant("id: sample-doc", "id: Sample Doc!"), "id"),
    "no-front-matter": ("## Just a heading\n\ntext\n", "no YAML front matter"),
    "broken-yaml": (_variant("topics: [sleep]", "topics: [sleep"), "not valid YAML"),
    "empty-body": (GOOD.split("## First")[0], "no body"),
}


@pytest.mark.parametrize("text,expected", list(BAD.values()), ids=list(BAD))
def test_bad_front_matter_fails_naming_the_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "broken-guide.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_document(path)
    assert "broken-guide.md" in str(err.value)
    assert expected in str(err.value)


def test_good_document_parses_into_sections() -> None:
    doc = parse_document(GOOD, "good.md")
    assert doc.id == "sample-doc"
    assert [c.id for c in chunk_document(doc)] == ["sample-doc#first-part", "sample-doc#second-part"]
    assert doc.source_summary == "Doe & Roe 2020"


def test_core_corpus_is_complete_and_valid() -> None:
    docs, problems = load_corpus(core_corpus_dir())
    assert problems == []
    assert len(docs) >= 30
    assert len({d.id for d in docs}) == len(docs)
    for doc in docs:
        assert doc.path == f"{doc.id}.md", "file name and id must agree"
        assert 250 <= doc.word_count() <= 700, f"{doc.id} has {doc.word_count()} words"
        assert len(doc.sections()) >= 2, f"{doc.id} needs ## headings"


@pytest.mark.parametrize("words", [10, 400, 2000], ids=["short", "medium", "very-long"])
def test_long_sections_are_split_below_the_limit(words: int) -> None:
    body = "## Only section\n\n" + "\n\n".join(
        " ".join(["calm"] * 40) + "." for _ in range(max(1, words // 40)))
    doc = parse_document(GOOD.split("## First")[0] + body, "long.md")
    chunks = chunk_document(doc, max_chars=600)
    assert all(len(c.text) <= 600 for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    assert chunks[0].id == "sample-doc#only-section"


@pytest.mark.parametrize("name,text", [
    ("referrals.txt", "Local referral pathway\n\nCall the clinic desk on weekdays."),
    ("notes.md", "# Night clinic\n\nThe night clinic sees walk-in patients."),
    ("emoji.txt", "\U0001f3b5 Music corner \U0001f3b5\n\nQuiet room on floor 2."),
    ("\u97f3\u697d.txt", "\u97f3\u697d\u7642\u6cd5\u306e\u6848\u5185\n\n\u9759\u304b\u306a\u90e8\u5c4b\u3002"),
], ids=["plain", "markdown-without-header", "emoji", "other-script"])
def test_plain_text_gets_generated_front_matter(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc = load_plain_text(path, clinic="North Clinic")
    assert doc.id.startswith("clinic-north-clinic-")
    assert doc.meta.evidence_level == "clinician-provided"
    assert doc.meta.sources[0].url.startswith("file://")
    assert parse_document(doc.to_markdown(), name).meta == doc.meta


def test_folder_hash_follows_content_not_mtime(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(GOOD, encoding="utf-8")
    first = folder_hash(tmp_path)
    path.touch()
    assert folder_hash(tmp_path) == first
    path.write_text(GOOD + "\nOne more line.\n", encoding="utf-8")
    assert folder_hash(tmp_path) != first
