"""The MITI-style dialogue-act classifier on a small hand-labelled table."""

from __future__ import annotations

import pytest

from attune.evals.dialogue_acts import classify, split_sentences, summarise

LABELLED = [
    # open questions
    ("What would help most tonight?", "question_open"),
    ("How did the music feel?", "question_open"),
    ("Could you tell me more about that?", "question_open"),
    ("Tell me more about your week.", "question_open"),
    ("¿Qué te gustaría escuchar ahora?", "question_open"),
    ("Comment te sens-tu ce soir ?", "question_open"),
    ("Wie geht es dir gerade?", "question_open"),
    # closed questions
    ("Would you like a calm piece?", "question_closed"),
    ("Did you sleep last night?", "question_closed"),
    ("Is the volume okay?", "question_closed"),
    ("¿Quieres algo más tranquilo?", "question_closed"),
    ("Möchtest du etwas Ruhiges hören?", "question_closed"),
    # simple reflections
    ("It sounds like you're tired.", "reflection_simple"),
    ("You're feeling anxious about tomorrow.", "reflection_simple"),
    ("So you had a long day?", "reflection_simple"),
    ("Parece que estás agotada.", "reflection_simple"),
    ("On dirait que tu es épuisé.", "reflection_simple"),
    # complex reflections
    ("Part of you wants to rest, and part of you feels you can't stop.", "reflection_complex"),
    ("It sounds like you miss her, even though you're grateful for the years you had.", "reflection_complex"),
    ("You care a lot about your sister, which is why the argument stings.", "reflection_complex"),
    ("It seems like the worry is a weight you carry everywhere, like a backpack you can't take off.", "reflection_complex"),
    ("Es klingt, als wärst du müde, obwohl du viel geschlafen hast.", "reflection_complex"),
    # affirmations
    ("Thank you for telling me about this.", "affirmation"),
    ("It took courage to say that.", "affirmation"),
    ("You've done a lot of hard work this week.", "affirmation"),
    # suggestions
    ("You could try breathing along with the slow pulse.", "suggestion"),
    ("Let's start with something gentle.", "suggestion"),
    ("I can compose a piece that starts where you are.", "suggestion"),
    ("Reach out to someone you trust tonight.", "suggestion"),
    # information
    ("This piece starts at 72 bpm and slows to 60.", "information"),
    ("Studies of slow music show lower heart rate after listening.", "information"),
    ("I'm an AI companion, not a therapist.", "information"),
    # other
    ("Hello!", "other"),
    ("Good night.", "other"),
]


@pytest.mark.parametrize("sentence, label", LABELLED, ids=[s[:40] for s, _ in LABELLED])
def test_labelled_sentences(sentence, label):
    assert classify(sentence) == label


def test_agreement_on_the_table_is_high():
    agree = sum(classify(s) == label for s, label in LABELLED)
    assert agree / len(LABELLED) >= 0.9


@pytest.mark.parametrize("text, count", [
    pytest.param("", 0, id="empty"),
    pytest.param("x", 1, id="one-char"),
    pytest.param("Hi. How are you? It sounds hard.", 3, id="three"),
    pytest.param("Options:\n- one\n- two", 3, id="list-lines"),
    pytest.param("¿Qué tal? Bien.", 2, id="spanish-opener"),
    pytest.param("😊 That sounds lovely. 🎵 Want more?", 2, id="emoji"),
    pytest.param("word " * 2000, 1, id="very-long"),
])
def test_split_sentences(text, count):
    assert len(split_sentences(text)) == count


def test_summary_ratio_and_complex_share():
    m = summarise(["It sounds like you're tired. Part of you wants to rest, but part of you can't. What helps?"])
    assert (m.reflections, m.questions) == (2, 1)
    assert m.ratio == 2.0 and m.complex_share == 0.5
    assert summarise(["Hello."]).ratio is None
    assert summarise(["It sounds hard."]).ratio == float("inf")
