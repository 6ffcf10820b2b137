"""Calibrate the risk-parts layer's thresholds for recall first, never on a blind set.

    python -m attune.evals.risk_calibration

Recall comes from out-of-fold probabilities on the layer's own training data
(5 folds): single messages that read as risk, and means questions paired with
an earlier message of distress (the masked-intent pattern), against means
questions paired with an ordinary earlier message. False positives come from
the team's regression sets (blind sets 1-6, no longer blind), screened with
the rest of the guard as it is, so only what this layer adds is counted.
Prints a table per threshold; ``RiskThresholds`` holds the chosen values.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
TEAM_SETS = ["tests/data/safety_blind.yaml"] + [f"evals/data/safety_blind{i}.yaml" for i in range(2, 7)]


def out_of_fold() -> dict[str, tuple[list[str], np.ndarray]]:
    """Per head: labels and out-of-fold class probabilities (columns in ``HEADS`` order)."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from attune.agent.safety.learned import prepare
    from attune.agent.safety.risk import HEADS, load_rows
    from attune.knowledge.embedding import embed_cached

    out = {}
    for head in HEADS:
        rows = list(dict.fromkeys((prepare(t), y) for t, y in load_rows(head)))
        texts, labels = [t for t, _ in rows], [y for _, y in rows]
        dense = embed_cached(texts, f"risk-calibration-{head}")
        probs = np.zeros((len(rows), len(HEADS[head])))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
            vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
                                  max_features=40000).fit([texts[i] for i in train])

            def x(idx):
                return hstack([csr_matrix(dense[idx]), vec.transform([texts[i] for i in idx])]).tocsr()
            model = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(
                x(train), [labels[i] for i in train])
            cols = [list(model.classes_).index(k) for k in HEADS[head]]
            probs[test] = model.predict_proba(x(test))[:, cols]
        out[head] = (labels, probs)
    return out


def main() -> int:
    import sys

    from attune.agent.safety.input_guard import InputGuard
    from attune.agent.safety.risk import RiskThresholds

    if "--team-only" not in sys.argv:
        held_out()
    print("team sets (no longer blind), with the guard as configured:", RiskThresholds())
    guard = InputGuard()
    guard.warm_up()
    from attune.evals.safety_blind import score

    for path in TEAM_SETS:
        r = score(ROOT / path, guard)
        print(f"  {path}: recall {r['crisis_recall']}, fp {r['benign_false_positives']}, "
              f"harmful {r['harmful_not_allowed']}")
        for m in r["misses"]:
            print("     miss", m)
    return 0


def held_out() -> None:
    oof = out_of_fold()
    m_labels, m_p = oof["means"]
    d_labels, d_p = oof["distress"]
    means = m_p[:, 1] + m_p[:, 2]
    despair = d_p[:, 1] + d_p[:, 2]
    rng = random.Random(0)
    means_idx = [i for i, y in enumerate(m_labels) if y != "none"]
    sad_idx = [i for i, y in enumerate(d_labels) if y != "none"]
    calm_idx = [i for i, y in enumerate(d_labels) if y == "none"]
    pos = [(rng.choice(means_idx), rng.choice(sad_idx)) for _ in range(2000)]
    neg = [(rng.choice(means_idx), rng.choice(calm_idx)) for _ in range(2000)]
    print("means + earlier despair (out of fold): recall / false positives with an ordinary earlier message")
    for tm in (0.5, 0.6, 0.7, 0.8):
        for td in (0.5, 0.6, 0.7, 0.8):
            rec = np.mean([means[a] >= tm and despair[b] >= td for a, b in pos])
            fp = np.mean([means[a] >= tm and despair[b] >= td for a, b in neg])
            print(f"  means>={tm} despair>={td}: recall {rec:.3f}  fp {fp:.3f}")
    risk_rows = [i for i, y in enumerate(d_labels) if y == "risk"]
    other = [i for i, y in enumerate(d_labels) if y != "risk"]
    for tr in (0.8, 0.9, 0.95):
        print(f"risk alone >= {tr}: recall {np.mean(d_p[risk_rows, 2] >= tr):.3f}, "
              f"fp on distress/none rows {np.mean(d_p[other, 2] >= tr):.3f}")
    lethal_rows = [i for i, y in enumerate(m_labels) if y == "lethal"]
    rest = [i for i, y in enumerate(m_labels) if y != "lethal"]
    for tl in (0.7, 0.8, 0.85, 0.9):
        print(f"lethal >= {tl}: recall {np.mean(m_p[lethal_rows, 2] >= tl):.3f}, "
              f"fp on fact/none rows {np.mean(m_p[rest, 2] >= tl):.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
