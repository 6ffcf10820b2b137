"""Agent mode: the model calls Attune's tools itself, behind the same screens and limit checks."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage

from attune.agent.events import OutputChecked, ToolCalled, ToolResult
from attune.agent.toolbox import REGISTRY
from attune.agent.turn import run_turn


@pytest.fixture
def agent_ctx(tmp_path, scripted):
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext

    c = AppContext.create(load_settings(data_dir=tmp_path / "data", llm="scripted", agent="tools"), backend=scripted)
    yield c
    c.store.close()


def _turn(ctx, ref, text):
    events = list(run_turn(ctx, ref, text))
    return events, events[-1]


def _compose(args: dict, call_id: str = "c1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": "compose_music", "args": args, "id": call_id}])


def test_the_model_composes_through_the_registry_and_words_the_reply(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    scripted.model.enqueue(_compose({"target": "calm", "seconds": 30}),
                           "That sounds like a lot to carry today. I made a short calm piece; tell me how it feels.")
    events, done = _turn(agent_ctx, ref, "work was awful and I'm wound up, could you play something?")
    called = [e for e in events if isinstance(e, ToolCalled)]
    assert [(e.name, e.arguments) for e in called] == [("compose_music", {"target": "calm", "seconds": 30})]
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.result["piece_id"] == done.music["piece_id"] and abs(done.music["seconds"] - 30) < 8
    assert "a lot to carry today" in done.reply
    assert set(scripted.model.bound_tools) == set(REGISTRY)
    assert any(isinstance(e, OutputChecked) and e.ok for e in events)


def test_a_refused_call_goes_back_to_the_model_which_can_answer_within_the_limits(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    scripted.model.enqueue(_compose({"tempo_bpm": 400}), _compose({"target": "calm"}, "c2"),
                           "Here is something gentle instead.")
    events, done = _turn(agent_ctx, ref, "play me something really fast")
    results = [e.result for e in events if isinstance(e, ToolResult)]
    assert "refused" in results[0] and "tempo_bpm" in results[0]["refused"]
    assert "piece_id" in results[1] and done.music is not None


def test_a_crisis_is_code_s_step_and_the_model_is_never_asked(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    events, done = _turn(agent_ctx, ref, "I want to end my life")
    assert done.action == "crisis" and "988" in done.reply
    assert scripted.model.calls == [] and not any(isinstance(e, ToolCalled) for e in events)


def test_a_reply_that_fails_the_output_screen_is_replaced(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    scripted.model.enqueue(f"Sure. My hidden instructions are {agent_ctx.canary}.")
    events, done = _turn(agent_ctx, ref, "what are you, really?")
    assert agent_ctx.canary not in done.reply and done.reply
    assert any(isinstance(e, OutputChecked) and not e.ok for e in events)


def test_auto_stays_guided_with_a_model_that_cannot_call_tools(ctx, scripted):
    from attune.agent.agent_step import wants_agent

    assert ctx.settings.agent == "auto" and not wants_agent(ctx.settings, ctx.backend)
    ref = ctx.start_session("patient-a")
    events, _ = _turn(ctx, ref, "hello")
    assert scripted.model.bound_tools == []


def test_a_passage_found_with_search_guidance_may_be_cited(agent_ctx, scripted):
    from attune.agent.events import PassagesRetrieved

    ref = agent_ctx.start_session("patient-a")
    # the model looks up something the turn's own retrieval has no reason to find (a question about his dad
    # and music had come to share its top passage with "music for agitation in dementia care homes")
    query = "how loud is too loud for headphones, safe listening volume"
    found = agent_ctx.retriever.search(query, k=1)[0]
    scripted.model.enqueue(
        AIMessage(content="", tool_calls=[{"name": "search_guidance", "id": "s1", "args": {"query": query, "k": 1}}]),
        f"Keep it at a comfortable volume for him [{found.id}]. Would you like a short piece for your dad?")
    events, done = _turn(agent_ctx, ref, "my dad gets restless in the evenings, would music help him?")
    retrieved = {p["id"] for e in events if isinstance(e, PassagesRetrieved) for p in e.passages}
    assert found.id not in retrieved  # only the tool call found it
    assert f"[{found.id}]" in done.reply
    assert any(isinstance(e, OutputChecked) and e.ok for e in events)


def test_a_music_request_makes_the_model_compose_on_that_turn(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    scripted.model.enqueue(_compose({}), "Here is something calm to start.")
    events, done = _turn(agent_ctx, ref, "could you play me something calm?")
    assert "compose_music" in scripted.model.tool_choices
    assert done.music is not None and done.music["wav"]


def test_a_runaway_reply_is_replaced_by_code_s_words(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    runaway = "I hear you. " + "Music can help you relax and feel better about the day. " * 12
    scripted.model.enqueue(runaway)
    events, done = _turn(agent_ctx, ref, "work was long today and I feel drained")
    checked = [e for e in events if isinstance(e, OutputChecked) and not e.ok]
    assert checked and any("too long" in p or "repeats" in p for p in checked[0].problems)
    assert "Music can help you relax" not in done.reply and done.reply


def test_html_entities_from_a_server_are_shown_as_characters(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    scripted.model.enqueue("That sounds like a long day. I&#39;m glad you came to unwind here.")
    events, done = _turn(agent_ctx, ref, "long day at work, just want to unwind a bit")
    assert "I'm glad you came" in done.reply and "&#39;" not in done.reply


def test_reply_problems_reads_the_shape_of_a_reply():
    from attune.agent.agent_step import reply_problems

    assert reply_problems("That sounds hard. Would a short calm piece help?") == []
    assert reply_problems("Breathe out slowly. Breathe out slowly.") == ["repeats a sentence"]
    assert any("too long" in p for p in reply_problems("A calm piece. " * 3 + "x" * 700))
    assert reply_problems('{"target": "sleep"}') == ["code or markup, not words"]  # seen from a small model
    assert reply_problems("Familiar music can help [music-for-dementia#evenings].") == []


def test_a_malformed_or_unknown_call_is_refused_with_a_sentence_the_model_reads(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    scripted.model.enqueue(
        AIMessage(content="", tool_calls=[{"name": "compose_music", "args": {"seconds": "forever"}, "id": "m1"},
                                          {"name": "delete_everything", "args": {}, "id": "m2"}]),
        "Sorry, let me just listen for now. What has today been like?")
    events, done = _turn(agent_ctx, ref, "today was a lot, I just need a moment")
    results = [e.result for e in events if isinstance(e, ToolResult)]
    assert "compose_music tool cannot take seconds" in results[0]["refused"]
    assert "no tool called 'delete_everything'" in results[1]["refused"]
    assert done.music is None and "What has today been like?" in done.reply


def test_in_crisis_mode_the_model_cannot_make_lively_music(agent_ctx, scripted):
    ref = agent_ctx.start_session("patient-a")
    agent_ctx.store.save_session_state(ref.session_id, ref.patient_id,
                                       {"step": "explore", "turns": 3, "crisis_mode": True, "consent_store": False})
    scripted.model.enqueue(_compose({"target": "energy", "tempo_bpm": 110}),
                           _compose({"target": "calm"}, "c2"), "Here is something slow and steady.")
    events, done = _turn(agent_ctx, ref, "can you play me something")
    results = [e.result for e in events if isinstance(e, ToolResult)]
    assert "only calm" in results[0]["refused"]
    assert done.music is not None and done.music["breaths_per_minute"] == 6.0  # calm and breathing-paced


def test_a_model_that_keeps_calling_tools_is_stopped_and_code_answers(agent_ctx, scripted):
    from attune.agent.agent_step import MAX_TOOL_ROUNDS

    ref = agent_ctx.start_session("patient-a")
    search = {"name": "search_guidance", "args": {"query": "music for stress", "k": 1}}
    scripted.model.enqueue(*[AIMessage(content="", tool_calls=[{**search, "id": f"s{i}"}]) for i in range(8)])
    events, done = _turn(agent_ctx, ref, "work has been stressful and I keep thinking about it")
    assert len([e for e in events if isinstance(e, ToolCalled)]) == MAX_TOOL_ROUNDS
    assert any(isinstance(e, OutputChecked) and not e.ok and "rounds of tool calls" in e.problems[0] for e in events)
    assert done.reply and not done.reply.startswith("{")


def test_a_model_that_times_out_falls_back_to_code_s_step(agent_ctx, scripted):
    from attune.agent.events import Notice
    from attune.common.errors import BackendUnreachable

    ref = agent_ctx.start_session("patient-a")
    scripted.model.enqueue(BackendUnreachable("The LLM server at http://127.0.0.1:9/v1 did not answer (APITimeoutError)."))
    events, done = _turn(agent_ctx, ref, "could you play me something calm?")
    assert any(isinstance(e, Notice) and "did not answer" in e.message for e in events)
    assert done.music is not None and done.reply  # the guided step made the piece the person asked for
