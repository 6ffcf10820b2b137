"""A reason the model gives must be the person's own words (agent/reply.py ``grounded``)."""

from __future__ import annotations

import pytest

from attune.agent.reply import grounded, unsaid_words

SAID = "honestly I'm not great. my dad's surgery got moved to friday and I keep imagining the worst"


@pytest.mark.parametrize("reason", [
    " because your dad's surgery got moved to Friday",
    " maybe because you keep imagining the worst",
])
def test_a_reason_in_the_persons_words_passes(reason):
    assert grounded(reason, SAID)


@pytest.mark.parametrize("reason", [
    " yourself, maybe because your dad's surgery happened on Friday",  # one word changed, and a self never spoken of
    " because the hospital keeps cancelling",  # a reason never given
    " about yourself",
])
def test_a_reason_with_words_the_person_never_said_fails(reason):
    assert not grounded(reason, SAID)


def test_yourself_counts_when_the_person_spoke_of_themselves():
    assert grounded(" because you're angry at yourself", "I'm so angry at myself today")


@pytest.mark.parametrize("continuation", [
    " after all those years",  # a circumstance without "because" had passed the reason check
    " down on the couch",
    " -key, maybe because the park lights have turned on",
    ", probably due to the pain you're experiencing",
])
def test_words_the_person_never_said_are_found_anywhere_in_the_continuation(continuation):
    assert unsaid_words(continuation, SAID)


@pytest.mark.parametrize("continuation", ["", ".", " and anxious", " right now", " about your dad's surgery"])
def test_feeling_words_hedges_and_their_own_words_are_not_unsaid(continuation):
    assert not unsaid_words(continuation, SAID)
