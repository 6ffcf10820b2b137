"""Text mood inference: held-out accuracy, negation, contrast, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from attune.tools.mood import EMOTIONS, MoodEstimate, infer_text
from attune.tools.mood.data import QUADRANTS, load_sentences, quadrant, split
from attune.tools.mood.text import split_contrast


def test_import_loads_nothing():
    import subprocess
    import sys

    code = (
        "import sys, attune.tools.mood; "
        "heavy = [m for m in ('sklearn', 'neurokit2', 'parselmouth', 'onnxruntime', 'vaderSentiment') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_data_set_is_large_and_balanced():
    rows = load_sentences()
    train, held = split()
    assert len(rows) >= 3000  # feeling sentences plus situational messages
    assert 0.2 <= len(held) / len(rows) <= 0.3
    counts = {q: sum(quadrant(r.valence, r.arousal) == q for r in rows) for q in QUADRANTS}
    assert min(counts.values()) >= 50, counts
    assert len({r.text for r in rows}) == len(rows), "duplicate sentences"


@pytest.fixture(scope="module")
def held_out_predictions():
    from attune.tools.mood.head import get_head

    _, held = split()
    head = get_head(include_held_out=False)  # the head people meet was fitted on these rows too
    return [(r, infer_text(r.text, head=head)) for r in held]


# The held-out quarter (about 930 rows until 2026-12-07) is mostly situational messages with no feeling word
# ("my court date is next week"); measured 2026-12-03: valence sign 0.91, arousal sign 0.84,
# clear quadrant 0.70 (ridge alone on the same split: 0.58), though through the head fitted on every row, these
# too. 2026-12-07, through the head fitted without them and the mood encoder fine-tuned on the training split
# only (so these rows are unseen by both): 0.91, 0.88, 0.77. With 1,759 more rows (half in seven other languages)
# the quarter holds about 2,400 clear rows, harder ones among them: 0.90, 0.88, 0.76. The floors sit just below.
@pytest.mark.parametrize("axis,floor", [("valence", 0.88), ("arousal", 0.85)])
def test_held_out_sign_accuracy(held_out_predictions, axis, floor):
    # neutral rows (|label| < 0.2) have no sign to get right
    pairs = [(getattr(r, axis), getattr(m, axis)) for r, m in held_out_predictions if abs(getattr(r, axis)) >= 0.2]
    acc = np.mean([np.sign(t) == np.sign(p) for t, p in pairs])
    assert len(pairs) >= 600
    assert acc >= floor, f"{axis} sign accuracy {acc:.3f}"


def test_held_out_reads_clearly_in_the_right_quadrant(held_out_predictions):
    rows = [(r, m) for r, m in held_out_predictions if min(abs(r.valence), abs(r.arousal)) >= 0.15]
    ok = [r.valence * m.valence > 0 and r.arousal * m.arousal > 0 and min(abs(m.valence), abs(m.arousal)) >= 0.15
          for r, m in rows]
    assert np.mean(ok) >= 0.74, f"clear quadrant {np.mean(ok):.3f} of {len(rows)}"


@pytest.mark.parametrize("text", ["my dog died last month", "My manager keeps piling work on me and I can't sleep",
                                  "a friend I was close to stopped calling", "my court date is next week"])
def test_situations_without_feeling_words_read_unpleasant(text):
    assert infer_text(text).valence <= -0.15


def test_held_out_quadrants_better_than_chance(held_out_predictions):
    for q in QUADRANTS[:4]:
        rows = [(r, m) for r, m in held_out_predictions if quadrant(r.valence, r.arousal) == q]
        acc = np.mean([quadrant(m.valence, m.arousal) == q for _, m in rows])
        assert acc >= 0.6, f"{q}: {acc:.2f}"


NEGATION = [
    ("not-happy-at-all", "I'm not happy at all", -1),
    ("not-happy-bare", "not happy at all", -1),
    ("dont-feel-good", "I don't feel good today", -1),
    ("never-felt-worse", "I have never felt so miserable", -1),
    ("not-bad", "Honestly I'm not feeling bad", +1),
    ("not-worried-anymore", "I'm not worried anymore, I feel fine", +1),
    ("cant-stop-worrying", "I can't stop worrying about the scan", -1),
]


@pytest.mark.parametrize("text,sign", [(t, s) for _, t, s in NEGATION], ids=[i for i, _, _ in NEGATION])
def test_negation_sets_valence_sign(text, sign):
    m = infer_text(text)
    assert np.sign(m.valence) == sign, m.valence
    assert any(e.source == "vader" for e in m.evidence)


def test_negated_stress_reads_calmer_than_stress():
    negated, plain = infer_text("I'm not stressed at all"), infer_text("I'm so stressed")
    assert negated.arousal <= 0.05 < plain.arousal
    assert negated.arousal < plain.arousal - 0.25


CONTRAST = [
    # (id, text, the message the later clause should pull toward)
    ("tired-but-hopeful", "I'm tired but hopeful", "valence+"),
    ("good-but-scared", "The day was good but I'm scared about tomorrow", "valence-"),
    ("although-lead", "Although I was scared this morning, now I feel calm and settled", "valence+"),
    ("though-mid", "I had a nice lunch, though I feel really low now", "valence-"),
    ("however", "The nurses are kind; however I'm furious about the delay", "valence-"),
]


@pytest.mark.parametrize("text,expect", [(t, e) for _, t, e in CONTRAST], ids=[i for i, _, _ in CONTRAST])
def test_contrast_later_clause_weighs_more(text, expect):
    m = infer_text(text)
    assert (m.valence > 0) == (expect == "valence+"), m.valence
    assert any("contrast" in e.detail for e in m.evidence)


def test_contrast_split_weights():
    assert split_contrast("tired but hopeful") == [("tired", 0.25, None), ("hopeful", 0.75, "but")]
    assert split_contrast("just a plain sentence") == [("just a plain sentence", 1.0, None)]


def test_tired_but_hopeful_is_better_than_hopeful_but_tired():
    assert infer_text("tired but hopeful").valence > infer_text("hopeful but tired").valence


INTENSITY = [
    ("extremely", "I'm extremely anxious", "I'm anxious"),
    ("exclamation", "I'm so excited!!!", "I'm excited"),
]


@pytest.mark.parametrize("strong,plain", [(s, p) for _, s, p in INTENSITY], ids=[i for i, _, _ in INTENSITY])
def test_intensifiers_raise_arousal(strong, plain):
    assert infer_text(strong).arousal > infer_text(plain).arousal


def test_hedge_softens():
    assert abs(infer_text("I feel a bit down").valence) < abs(infer_text("I feel really down").valence) + 0.05


EDGE = [
    ("empty", "", True),
    ("whitespace", "   \n\t", True),
    ("none", None, True),
    ("one-char", "k", False),
    ("emoji-only", "😭😭", False),
    ("other-script", "今日はとても疲れた", False),
    ("very-long", "I feel okay I guess. " * 2000, False),
    ("punctuation", "?!...", False),
]


@pytest.mark.parametrize("text,empty", [(t, e) for _, t, e in EDGE], ids=[i for i, _, _ in EDGE])
def test_edge_inputs_never_crash(text, empty):
    m = infer_text(text)
    assert isinstance(m, MoodEstimate)
    assert -1 <= m.valence <= 1 and -1 <= m.arousal <= 1
    assert set(m.emotions) == set(EMOTIONS)
    assert sum(m.emotions.values()) == pytest.approx(1.0, abs=1e-6)
    if empty:
        assert m.confidence == 0 and m.valence == 0 and m.arousal == 0
        assert m.emotions["neutral"] == 1.0
        assert m.label() == "hard to tell"


def test_other_script_has_low_confidence():
    assert infer_text("今日はとても疲れた").confidence < 0.3


def test_emoji_carry_valence():
    assert infer_text("😊").valence > 0.2
    assert infer_text("today 😭").valence < 0


LABELS = [
    ("anxious", "I'm panicking, my heart is racing and I'm so scared", {"anxious"}),
    ("calm", "I feel calm and peaceful, just relaxing", {"calm"}),
    ("low-tired", "I feel so low and exhausted, no energy and sad", {"low and tired", "low", "tired"}),
    ("frustrated", "I'm furious, they cancelled again!", {"frustrated", "anxious and frustrated"}),
    ("warm", "I feel so much love for my family", {"warm", "warm and upbeat"}),
]


@pytest.mark.parametrize("text,ok", [(t, o) for _, t, o in LABELS], ids=[i for i, _, _ in LABELS])
def test_label_is_a_plain_word(text, ok):
    assert infer_text(text).label() in ok


def test_evidence_names_words():
    m = infer_text("I'm not happy and very tired")
    details = " ".join(e.detail for e in m.evidence)
    assert "negated 'happy'" in details and "'tired'" in details


PAIRS = [
    ("low-and-tired", {"sadness": 0.4, "tiredness": 0.35, "neutral": 0.25}, -0.5, -0.5, "low and tired"),
    ("order-is-fixed", {"tiredness": 0.45, "sadness": 0.35, "neutral": 0.2}, -0.5, -0.5, "low and tired"),
    ("single", {"anxiety": 0.8, "neutral": 0.2}, -0.6, 0.6, "anxious"),
    ("calm", {"calm": 0.7, "tenderness": 0.2, "neutral": 0.1}, 0.5, -0.5, "calm"),
    ("quiet-joy", {"joy": 0.7, "neutral": 0.3}, 0.4, 0.0, "positive"),
    ("lively-joy", {"joy": 0.7, "neutral": 0.3}, 0.6, 0.6, "upbeat"),
    ("unsure", {"neutral": 1.0}, 0.0, 0.0, "hard to tell"),
    # near neutral, two feelings from opposite sides are not joined ("low and positive" was shown)
    ("near-neutral-opposites", {"sadness": 0.4, "joy": 0.35, "neutral": 0.25}, 0.1, -0.27, "low"),
]


@pytest.mark.parametrize("emotions,v,a,word", [(e, v, a, w) for _, e, v, a, w in PAIRS], ids=[i for i, *_ in PAIRS])
def test_label_table(emotions, v, a, word):
    conf = 0.0 if word == "hard to tell" else 0.7
    assert MoodEstimate(valence=v, arousal=a, emotions=emotions, confidence=conf).label() == word


def test_the_shipped_mood_encoder_was_built_from_the_current_training_rows():
    """A change of the mood data without ``python -m attune.tools.mood.encoder build`` leaves an encoder that
    learned other rows (and may have seen today's held-out ones)."""
    import hashlib
    import json

    from attune.tools.mood.encoder import MODEL_PATH

    train, _ = split()
    built = json.loads((MODEL_PATH.parent / "BUILD.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256("\n".join(f"{r.valence}\t{r.arousal}\t{r.emotion}\t{r.text}" for r in train)
                            .encode("utf-8")).hexdigest()[:16]
    assert MODEL_PATH.is_file() and built["rows"] == len(train) and built["data_sha256"] == digest


def test_a_situation_without_feeling_words_reads_in_its_quadrant():
    # our wordings, 2026-12-07: a quiet house after a child left read calm (+0.25) with the frozen encoder
    quiet = infer_text("my daughter moved to Canada last week and the house is so quiet")
    assert quiet.valence <= -0.3 and quiet.arousal <= -0.15
    worry = infer_text("I can't stop worrying about the scan")
    assert worry.valence <= -0.15 and worry.arousal >= 0.3
