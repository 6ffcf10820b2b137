"""Learning what works: the per-patient bandit moves toward what the ratings reward."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from attune.agent import service
from attune.agent.learning import choose, explain_learning, measured_change, reward_from, update
from attune.agent.turn import collect, run_turn


def test_choice_follows_rewards():
    memory: dict = {}
    rng = random.Random(7)
    before = Counter(choose(memory, "calming", rng)["family"] for _ in range(300))
    for _ in range(12):  # harp helps, piano does not
        update(memory, "calming", {"family": "harp"}, 0.95)
        update(memory, "calming", {"family": "piano"}, 0.05)
    after = Counter(choose(memory, "calming", rng)["family"] for _ in range(300))
    assert after["harp"] > 150 and after["harp"] > 2 * before["harp"]  # untried options still get explored
    assert after["piano"] < before["piano"]
    assert "Harp has helped you most" in explain_learning(memory, "calming")
    assert "Harp has helped you most" in explain_learning(memory, "calming", "harp")
    assert explain_learning(memory, "calming", "strings") is None  # never said under a violin piece


def test_contexts_do_not_mix():
    memory: dict = {}
    update(memory, "calming", {"family": "harp"}, 1.0)
    assert explain_learning(memory, "energising") is None


@pytest.mark.parametrize("pre, post, expected", [
    ({"suds": 8}, {"suds": 4}, 1.0),
    ({"suds": 4}, {"suds": 8}, 0.0),
    ({"sam_valence": 3}, {"sam_valence": 3, "liking": 3}, 0.5),
    ({}, {}, None),
], ids=["suds-down", "suds-up", "no-change", "nothing-rated"])
def test_reward_from_ratings(pre, post, expected):
    assert reward_from(pre, post) == expected


def test_an_after_only_rating_measures_no_change():
    assert measured_change({}, {"suds": 2, "sam_valence": 8, "liking": 5}) is None
    assert measured_change({"suds": 6}, {"suds": 2}) == 1.0


def test_ratings_after_a_piece_update_this_patient_only(ctx):
    a = ctx.start_session("patient-a")
    b = ctx.start_session("patient-b")
    collect(run_turn(ctx, a, "hi"))
    done = collect(run_turn(ctx, a, "play something calm please"))
    service.rate(ctx, a, "pre", suds=8, sam_valence=3)
    outcome = service.rate(ctx, a, "post", suds=3, sam_valence=7, liking=5, piece_id=done.music["piece_id"])
    assert outcome["outcome"]["reward"] > 0.9
    family = outcome["outcome"]["choice"]["family"]
    table = ctx.store.patient_data(a.patient_id)["bandit"]["calming"]["family"][family]
    assert table[0] > 1.5  # the success count grew
    assert "bandit" not in ctx.store.patient_data(b.patient_id)
