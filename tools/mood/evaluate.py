"""Held-out scores for the text model: `held_out_report() -> dict`.

Sign accuracy counts only rows whose label is at least 0.2 from zero on that
axis (a neutral sentence has no sign to get right). Quadrants use
`data.quadrant` (dead zone 0.15 on both axes for "neutral"). Run as
`python -m attune.tools.mood.evaluate` to print the numbers as JSON.
"""

from __future__ import annotations

__all__ = ["held_out_report"]


def held_out_report() -> dict:
    from .data import QUADRANTS, quadrant, split
    from .head import get_head
    from .text import infer_text

    _, held = split()
    head = get_head(include_held_out=False)  # fitted without these rows
    matrix = [[0] * len(QUADRANTS) for _ in QUADRANTS]
    sign = {"valence": [0, 0], "arousal": [0, 0]}
    emotion_right = 0
    clear = [0, 0]  # rows with a quadrant: both estimates at least 0.15 from neutral on the right side
    for row in held:
        est = infer_text(row.text, head=head)
        if quadrant(row.valence, row.arousal) != "neutral" and min(abs(row.valence), abs(row.arousal)) >= 0.15:
            clear[1] += 1
            clear[0] += (row.valence * est.valence >= 0 and row.arousal * est.arousal >= 0
                         and min(abs(est.valence), abs(est.arousal)) >= 0.15)
        for axis in sign:
            truth, guess = getattr(row, axis), getattr(est, axis)
            if abs(truth) >= 0.2:
                sign[axis][1] += 1
                sign[axis][0] += (truth > 0) == (guess > 0)
        matrix[QUADRANTS.index(quadrant(row.valence, row.arousal))][QUADRANTS.index(quadrant(est.valence, est.arousal))] += 1
        emotion_right += est.top(1)[0][0] == row.emotion
    return {
        "rows": len(held),
        "valence_sign_accuracy": round(sign["valence"][0] / sign["valence"][1], 4),
        "arousal_sign_accuracy": round(sign["arousal"][0] / sign["arousal"][1], 4),
        "emotion_top1_accuracy": round(emotion_right / len(held), 4),
        "clear_quadrant_accuracy": round(clear[0] / max(1, clear[1]), 4),
        "per_quadrant_accuracy": {q: round(matrix[i][i] / max(1, sum(matrix[i])), 4) for i, q in enumerate(QUADRANTS)},
        "confusion": {"labels": list(QUADRANTS), "rows_true_cols_predicted": matrix},
    }


if __name__ == "__main__":
    import json

    print(json.dumps(held_out_report(), indent=1))
