"""The reader: intents, asked-for changes, goals and the person's own words, learned from examples.

The example rows below are new wordings written for these tests (not lines of the
training files); the override rules are checked against their own examples.
"""

from __future__ import annotations

import zlib

import pytest

from attune.agent.reader import (Reader, Reading, clauses, instruments_named, load_examples, load_overrides, read,
                                 second_person)

INTENTS = [
    ("music-plain", "could you put some music on for me?", "music"),
    ("music-story", "long shift at the hospital and my feet are killing me, got anything soothing?", "music"),
    ("feedback-slow", "honestly that one plodded along, can the next be quicker", "feedback"),
    ("feedback-hopeful", "Can you make it a little more hopeful?", "feedback"),
    ("feedback-shorter", "nice but I only have a couple of minutes, shorter please", "feedback"),
    ("why-iso", "why would you play me something sad when I already feel sad?", "why"),
    ("why-breath", "what has my breathing got to do with music anyway", "why"),
    ("stop", "please switch that off now", "stop"),
    ("bye-done", "I think I'm done for today. Thanks, bye.", "bye"),
    ("bye-plain", "Goodbye.", "bye"),
    ("bye-bed", "off to bed now, thanks for tonight", "bye"),
    ("talk-manager", "I've had a really stressful week, my manager keeps piling work on me and I can't sleep", "talk"),
    ("talk-dog", "my dog died last month and the flat feels empty", "talk"),
    ("talk-slow-day", "I feel so slow and foggy today", "talk"),
    ("talk-done-exams", "I'm finally done with my exams!!", "talk"),
    ("talk-cant-stop", "I can't stop thinking about what she said", "talk"),
    ("yes", "yeah go on then", "yes"),
    ("no", "not right now, thanks", "no"),
    ("es-music", "¿me pones algo tranquilo para dormir?", "music"),
    ("de-bye", "Ich mache für heute Schluss, danke dir!", "bye"),
]


@pytest.mark.parametrize("text,intent", [(t, i) for _, t, i in INTENTS], ids=[x for x, _, _ in INTENTS])
def test_intent(text, intent):
    assert read(text).intent == intent


CHANGES = [
    ("faster-brighter", "That was too slow, make the next one faster and brighter", {"tempo": 1, "mode": 1}),
    ("hopeful", "a bit more hopeful next time?", {"mode": 1}),
    ("softer", "it was a bit loud for me, can you turn it down", {"loudness": -1}),
    ("longer", "that ended just as I was settling, make it longer", {"length": 1}),
    ("slower", "too rushed, slow it down", {"tempo": -1}),
    # two changes in one message: read whole, "too quiet" beside "a bit longer" had come out as quieter
    ("quiet-and-short", "that was nice but kind of too quiet, and a bit longer next time", {"loudness": 1, "length": 1}),
    ("loud-and-long", "it was too loud and way too long", {"loudness": -1, "length": -1}),
    # a turning word ("trop", "zu", "demasiado", "za", "demais") asks for the opposite of the word it turns
    ("fr-turned", "c'était trop lent, et un peu moins fort la prochaine fois", {"tempo": 1, "loudness": -1}),
    ("fr-plain", "plus lent s'il te plaît", {"tempo": -1}),
    ("de-turned", "zu leise und etwas zu kurz", {"loudness": 1, "length": 1}),
    ("es-turned", "me gustó, pero demasiado triste", {"mode": 1}),
    ("it-turned", "troppo veloce per me", {"tempo": -1}),
    ("pl-turned", "za głośno i za długo", {"loudness": -1, "length": -1}),
    ("pt-after", "a música ficou lenta demais", {"tempo": 1}),
    # a part opening with a holding word keeps that quality: "not brighter" had read as brighter
    ("held-key", "a bit quicker please, but not brighter", {"tempo": 1}),
    ("held-volume", "more upbeat but not louder", {"energy": 1}),
]


@pytest.mark.parametrize("text,changes", [(t, c) for _, t, c in CHANGES], ids=[x for x, _, _ in CHANGES])
def test_changes_read_with_their_direction(text, changes):
    got = {d: (1 if v > 0 else -1) for d, v in read(text).changes.items()}
    assert got == changes


def test_no_change_is_read_from_ordinary_talk():
    r = read("I feel so slow today and everything is dark outside")
    assert r.changes == {} and not r.drop and not r.use


@pytest.mark.parametrize("text,drop,use", [
    ("leave the piano out next time", ["piano"], []),
    ("could the next one have a guitar in it?", [], ["guitar"]),
])
def test_instruments_dropped_or_used(text, drop, use):
    r = read(text)
    assert all(d in r.drop for d in drop) and all(u in r.use for u in use)
    assert not set(r.drop) & set(r.use)


def test_instrument_vocabulary_is_a_lookup():
    assert [c for c, _ in instruments_named("no electric piano, more cello")] == ["electric piano", "cello"]
    assert instruments_named("I lost my keys at the station") == []


@pytest.mark.parametrize("text,family", [
    ("następny bez fortepianu, proszę", "piano"), ("de volgende met een fluit erin", "flute"),
    ("bir sonrakinde keman olmasın", "violin"), ("z gitarą następnym razem", "guitar"),
    ("zonder strijkers graag", "strings"), ("bir dahakine piyanosuz olsun", "piano"),
])
def test_instruments_are_named_in_dutch_polish_and_turkish(text, family):
    """Dutch and Polish are reader languages and Turkish mood data exists, but "fortepian", "fluit" or "keman"
    named no instrument: "no piano" in Polish left the piano in."""
    assert family in [c for c, _ in instruments_named(text)]


@pytest.mark.parametrize("text,goal", [("something to help me drift off to sleep please", "sleep"),
                                       ("I need music to get me moving for my run", "energy"),
                                       ("can you help me focus on this essay", "focus")])
def test_goal(text, goal):
    assert read(text).goal == goal


@pytest.mark.parametrize("text,about", [
    ("I've had a really stressful week, my manager keeps piling work on me and I can't sleep", "manager"),
    ("hi, my dog died last month and the house is so quiet", "dog died"),
])
def test_about_is_the_persons_own_words(text, about):
    r = read(text)
    assert r.about and about in r.about and r.about in text


@pytest.mark.parametrize("words,expected", [
    ("exam tomorrow", "the exam tomorrow"), ("work", "work"), ("your exam tomorrow", "your exam tomorrow"),
    ("worrying about money", "worrying about money"), ("mum's birthday", "mum's birthday"),
    ("two deadlines", "two deadlines"),
])
def test_a_phrase_after_about_reads_as_english(words, expected):
    from attune.agent.reader import as_noun_phrase

    assert as_noun_phrase(words) == expected


@pytest.mark.parametrize("text", [
    "the scan came back clear, but I still lie awake going over it",
    "the kids are fine but the house feels so empty since they moved out",
])
def test_the_reason_is_never_what_a_but_turned_away_from(text):
    r = read(text)
    assert r.about is None or text.find(r.about) > text.find("but")


def test_a_reason_with_a_verb_is_reflected_as_a_clause():
    from attune.agent.reflect import reason_sentence

    r = read("honestly it's been a rough week, my sister's in hospital and I drive out there every evening")
    assert r.about and "sister" in r.about and r.about_kind == "clause"
    assert reason_sentence("tired", r) == "It sounds like you're feeling tired because your sister's in hospital."


@pytest.mark.parametrize("text,said,asked", [
    ("Could you play me something calm? I'm a bit wound up after work.", "wound up", "play"),
    ("I feel really flat today, can you put on something gentle", "flat", "put on"),
])
def test_a_request_keeps_what_it_says_about_the_person(text, said, asked):
    r = read(text)
    assert r.intent == "music"
    assert r.feeling and said in r.feeling and asked not in r.feeling


def test_an_unsure_message_takes_the_intent_of_a_clause_that_clearly_asks():
    r = read("I don't really know. maybe some music")  # a why at 0.44 as a whole; "maybe some music" is clear
    assert r.intent == "music" and r.sure


@pytest.mark.parametrize("text", ["Add some harp, I'd love that", "Mit Harfe, bitte"])
def test_a_polite_tail_does_not_speak_for_the_request(text):
    r = read(text)  # "I'd love that" alone reads as a yes, "bitte" as little at all
    assert r.intent in {"music", "feedback"} and r.sure and "harp" in r.use


def test_a_one_clause_request_says_nothing_about_the_person():
    assert read("play me something slow please").feeling is None


@pytest.mark.parametrize("words,expected", [
    ("my dog died last month", "your dog died last month"),
    ("I was let go from my job", "you were let go from your job"),
    ("my dog was ill", "your dog was ill"),
    ("I'm worried about my mum", "you're worried about your mum"),
    ("I've lost myself a bit", "you've lost yourself a bit"),
    ("he keeps calling me", "he keeps calling you"),
])
def test_second_person_grammar(words, expected):
    assert second_person(words) == expected


def test_clauses_drop_fillers():
    assert clauses("hi, so my exams start tomorrow and I'm freaking out") == ["my exams start tomorrow",
                                                                             "I'm freaking out"]


@pytest.mark.parametrize("text,expected", [
    ("honestly not great. my sister and I had a huge fight and now she's not answering",
     ["not great", "my sister and I had a huge fight and now she's not answering"]),
    ("ugh. me and my husband argued again", ["me and my husband argued again"]),
    ("I love my job and my boss is great", ["I love my job", "my boss is great"]),
])
def test_a_joint_subject_stays_with_its_clause(text, expected):
    """ "my sister and I had a fight ... now she's not answering" had been reflected as "you had a huge fight
    ... now she's not answering": the sister gone and "she" nobody."""
    assert clauses(text) == expected


def test_a_goodbye_must_be_sure_to_end_the_session():
    assert read("bye for now, thanks").sure
    plan = read("ok. I think I'll try calling her tomorrow")
    assert plan.intent != "bye" or not plan.sure


@pytest.mark.parametrize("text", ["", "   ", "🙂" * 3000, "a" * 50_000, "\x00\u202e odd"])
def test_odd_input_reads_without_error(text):
    assert isinstance(read(text), Reading)


def _stance_cases():
    from attune.agent.reader import _data_dir
    from attune.common.data import load_yaml

    for lang, entry in load_yaml(_data_dir().joinpath("stance.yaml").read_text("utf-8")).items():
        for ex in entry["examples"]:
            yield pytest.param(ex, 1.0, id=f"{lang}-turns-{ex[:20]}")
        for ex in entry.get("near_misses", []):
            yield pytest.param(ex, 0.0, id=f"{lang}-plain-{ex[:20]}")


@pytest.mark.parametrize("text,flag", list(_stance_cases()))
def test_turning_words_match_their_examples(text, flag):
    from attune.agent.reader import stance

    assert stance([text])[0] == flag


def _hold_cases():
    from attune.agent.reader import _data_dir
    from attune.common.data import load_yaml

    raw = load_yaml(_data_dir().joinpath("hold.yaml").read_text("utf-8"))
    for lang, entry in raw.items():
        for ex in entry["examples"]:
            yield pytest.param(ex, True, id=f"{lang}-holds-{ex[:20]}")
        for ex in entry.get("near_misses", []):
            yield pytest.param(ex, False, id=f"{lang}-asks-{ex[:20]}")


@pytest.mark.parametrize("part,held", list(_hold_cases()))
def test_holding_words_match_their_examples(part, held):
    from attune.agent.reader import holds

    assert holds(part) is held


def _override_cases():
    for rule in load_overrides():
        for ex in rule.examples:
            yield pytest.param(rule, ex, True, id=f"{rule.name}-match-{ex[:20]}")
        for ex in rule.near_misses:
            yield pytest.param(rule, ex, False, id=f"{rule.name}-miss-{ex[:20]}")


@pytest.mark.parametrize("rule,text,matches", list(_override_cases()))
def test_override_rules_match_their_examples(rule, text, matches):
    assert bool(rule.pattern.match(text)) is matches


def test_training_data_is_large_varied_and_valid():
    rows = load_examples()  # validates every line (an 'about' must be words of the text)
    assert len(rows) >= 4000
    assert len({r.lang for r in rows}) >= 6
    for intent in ("music", "feedback", "yes", "no", "why", "stop", "bye", "talk"):
        assert sum(r.intent == intent for r in rows) >= 150, intent


@pytest.mark.slow
def test_held_out_fifth_reads_the_intent():
    """Fitted on four fifths of the examples (split by a hash of the text), read on the rest.

    Measured 2026-12-03: 0.87 intent accuracy on 854 held-out rows in six languages.
    """
    rows = load_examples()
    train = [r for r in rows if zlib.crc32(r.text.encode()) % 5]
    test = [r for r in rows if not zlib.crc32(r.text.encode()) % 5]
    reader = Reader(train)
    acc = sum(reader.read(r.text).intent == r.intent for r in test) / len(test)
    assert acc >= 0.84, acc
