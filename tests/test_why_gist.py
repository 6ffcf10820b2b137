"""A question about the music is answered with the passage's sentences that answer it, not its first ones."""

from __future__ import annotations

from attune.agent.turn import _passage_gist

PASSAGE = """## Breathing with music

Music for relaxation is often slow and soft. Many people like to listen lying down.
- Resonance breathing is about six breaths a minute, and slow breathing at that pace raises heart rate variability.
- Keep the volume comfortable; stop whenever you like.
What does the research say? Small trials suggest benefits for stress."""


def test_the_sentence_that_answers_comes_first_in_the_gist():
    gist = _passage_gist(PASSAGE, "how slowly am I supposed to breathe with the music?", sentences=1)
    assert "six breaths a minute" in gist


def test_without_a_question_the_gist_is_the_opening_and_never_a_question():
    gist = _passage_gist(PASSAGE)
    assert gist.startswith("Music for relaxation is often slow and soft.")
    assert "?" not in gist and "#" not in gist
