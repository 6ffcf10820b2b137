"""Character n-gram features applied without scikit-learn give scikit-learn's own numbers."""

from __future__ import annotations

import numpy as np
import pytest

from attune.knowledge.ngrams import CharNgrams

TEXTS = [
    "I can't sleep, my manager keeps piling work on me",
    "no quiero seguir así… estoy muy cansada",
    "Ich   bin so müde\tund traurig",
    "ça va pas du tout aujourd'hui",
    "a b c",
    "soooo tired lol 😴 idk",
    "",
    "  leading and trailing  ",
    "ΚΑΛΗΜΈΡΑ Straße İstanbul",
    "play something calm please",
]


@pytest.mark.parametrize("ngram_range", [(2, 4), (2, 5)])
def test_the_analyser_and_the_rows_match_scikit_learn(ngram_range):
    from sklearn.feature_extraction.text import TfidfVectorizer

    ours = CharNgrams.fit(TEXTS, ngram_range, min_df=1)
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, min_df=1, sublinear_tf=True,
                             dtype=np.float32).fit(TEXTS)
    analyser = theirs.build_analyzer()
    for text in TEXTS + ["something new entirely", "ÉCOUTE"]:
        assert ours.analyse(text) == analyser(text)
    new = TEXTS + ["a sentence never seen, with new words", "tired tired tired"]
    assert np.allclose(ours.transform(new).toarray(), theirs.transform(new).toarray(), atol=1e-6)


def test_a_text_with_no_known_ngram_scores_zero():
    grams = CharNgrams.fit(["hello there", "hello again"], (2, 3), min_df=1)
    cols, weights = grams.row("zzz qqq")
    assert len(cols) == 0 and len(weights) == 0
    assert grams.scores("zzz", np.ones((grams.size, 3), dtype=np.float32)).tolist() == [0.0, 0.0, 0.0]
    assert grams.transform(["zzz", "hello"]).shape == (2, grams.size)
