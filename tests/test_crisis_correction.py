"""After a crisis reply, "I'm safe, I only meant I'm done" takes the banner down and marks the flag corrected."""

from __future__ import annotations

import pytest

from attune.agent.turn import collect, run_turn


def test_saying_safe_after_a_crisis_reply_clears_the_banner_and_corrects_the_flag(ctx):
    ref = ctx.start_session("patient-a")
    first = collect(run_turn(ctx, ref, "I want to end my life"))
    assert first.action == "crisis" and first.crisis and not first.crisis_cleared
    flagged = ctx.store.list_sessions("clinician:dr-lee")[0]
    assert flagged["flagged"] and "Crisis signal at turn 1" in flagged["flag_reason"]

    done = collect(run_turn(ctx, ref, "Sorry, I'm safe now, I just meant I'm finished chatting"))
    assert done.crisis_cleared and not done.crisis
    row = ctx.store.list_sessions("clinician:dr-lee")[0]
    assert not row["flagged"]  # no longer sorted first as an open flag ...
    assert row["flag_reason"] == flagged["flag_reason"]  # ... but the record stays
    assert row["flag_corrected"] == "Corrected at turn 2: the person said they are safe."
    kinds = [e["kind"] for e in ctx.store.events(ref.session_id, ref.patient_id)]
    assert kinds.count("Flagged") == 1 and kinds.count("FlagCorrected") == 1


def test_a_new_crisis_signal_after_a_correction_flags_again(ctx):
    ref = ctx.start_session("patient-b")
    collect(run_turn(ctx, ref, "I want to end my life"))
    collect(run_turn(ctx, ref, "I'm safe, I'm okay now"))
    again = collect(run_turn(ctx, ref, "actually I still want to kill myself tonight"))
    assert again.action == "crisis"
    row = ctx.store.list_sessions("clinician:dr-lee")[0]
    assert row["flagged"] and row["flag_corrected"] is None and "turn 3" in row["flag_reason"]


@pytest.mark.parametrize("correction", [
    "no no, I'm fine! I only meant goodbye for today, talk tomorrow",
    "I'm not in danger, I just meant I'm finished for the day",
    "perdón, estoy bien, solo quería decir que termino por hoy",
    "Keine Sorge, mir geht's gut, ich meinte nur, dass ich für heute Schluss mache",
], ids=["en-fine", "en-not-in-danger", "es", "de"])
def test_corrections_in_several_languages_clear_the_banner(ctx, correction):
    ref = ctx.start_session("patient-c")
    assert collect(run_turn(ctx, ref, "I want to end my life")).action == "crisis"
    done = collect(run_turn(ctx, ref, correction))
    assert done.crisis_cleared and done.action != "crisis"
