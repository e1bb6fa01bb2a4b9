from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from gemini_interactions_mcp.upstream import wire as w
from gemini_interactions_mcp.upstream.streaming import InteractionAssembler, iter_events

from .helpers import ChunkStream

REQUEST = httpx2.Request("GET", "http://upstream.test/v1beta/interactions/v1_a?stream=true")


async def _events(*chunks: bytes, error: Exception | None = None) -> list[w.StreamEvent]:
    response = httpx2.Response(
        200,
        headers={"content-type": "text/event-stream"},
        stream=ChunkStream(chunks, error),
        request=REQUEST,
    )
    try:
        return [event async for event in iter_events(response)]
    finally:
        await response.aclose()


@pytest.mark.anyio
async def test_events_are_typed_from_the_json_payload() -> None:
    events = await _events(
        b'event: interaction.created\ndata: {"event_type":"interaction.created",'
        b'"interaction":{"id":"v1_a","status":"in_progress"},"event_id":"e1"}\n\n',
        b'event: step.delta\r\ndata: {"event_type":"step.delta","index":0,'
        b'"delta":{"type":"text","text":"hi"},"event_id":"e2"}\r\n\r\n',
    )
    assert [type(e) for e in events] == [w.InteractionCreatedEvent, w.StepDeltaEvent]
    assert [e.event_id for e in events] == ["e1", "e2"]


@pytest.mark.anyio
async def test_frames_split_across_chunks_are_reassembled() -> None:
    frame = b'data: {"event_type":"step.delta","index":0,"delta":{"type":"text","text":"hi"}}\n\n'
    events = await _events(frame[:10], frame[10:30], frame[30:])
    assert isinstance(events[0], w.StepDeltaEvent)


@pytest.mark.anyio
async def test_comments_blank_data_and_non_json_frames_are_skipped() -> None:
    events = await _events(
        b": keep-alive\n\n",
        b"data:\n\n",
        b"data: not json\n\n",
        b'data: {"event_type":"step.stop","index":0}\n\n',
    )
    assert [type(e) for e in events] == [w.StepStopEvent]


@pytest.mark.anyio
async def test_unicode_line_separators_inside_json_strings_do_not_split_an_event() -> None:
    text = "a\u2028b\u2029c\x85d\x1ce"
    payload = {"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": text}}
    frame = f"event: step.delta\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
    (event,) = await _events(frame.encode())
    assert isinstance(event, w.StepDeltaEvent) and isinstance(event.delta, w.TextDelta)
    assert event.delta.text == text


@pytest.mark.anyio
async def test_done_sentinel_ends_the_stream() -> None:
    events = await _events(
        b'data: {"event_type":"step.stop","index":0}\n\n',
        b"data: [DONE]\n\n",
        b'data: {"event_type":"step.stop","index":1}\n\n',
    )
    assert len(events) == 1


@pytest.mark.anyio
async def test_sse_event_and_id_lines_fill_in_a_payload_without_them() -> None:
    events = await _events(
        b'event: step.stop\nid: e7\ndata: {"index":2}\n\n',
        b'data: {"error":{"code":"prohibited_content","message":"no"}}\n\n',
        b'data: {"mystery":1}\n\n',
    )
    assert isinstance(events[0], w.StepStopEvent)
    assert (events[0].index, events[0].event_id) == (2, "e7")
    assert isinstance(events[1], w.ErrorEvent)
    assert events[1].error.code == "prohibited_content"
    assert isinstance(events[2], w.UnknownEvent)


@pytest.mark.anyio
async def test_a_drop_propagates_after_the_complete_events() -> None:
    response = httpx2.Response(
        200,
        headers={"content-type": "text/event-stream"},
        stream=ChunkStream(
            [b'data: {"event_type":"step.stop","index":0}\n\n', b'data: {"event_ty'],
            httpx2.RemoteProtocolError("peer closed"),
        ),
        request=REQUEST,
    )
    seen: list[w.StreamEvent] = []
    with pytest.raises(httpx2.RemoteProtocolError):
        async for event in iter_events(response):
            seen.append(event)
    await response.aclose()
    assert len(seen) == 1


def _feed(*events: dict[str, Any]) -> InteractionAssembler:
    assembler = InteractionAssembler()
    for raw in events:
        assembler.feed(w.parse_event(raw))
    return assembler


def _delta(index: int, **delta: Any) -> dict[str, Any]:
    return {"event_type": "step.delta", "index": index, "delta": delta}


def test_assembler_builds_text_thoughts_and_citations() -> None:
    assembler = _feed(
        {
            "event_type": "interaction.created",
            "interaction": {"id": "v1_a", "status": "in_progress", "model": "m"},
        },
        {
            "event_type": "interaction.status_update",
            "interaction_id": "v1_a",
            "status": "in_progress",
        },
        {"event_type": "step.start", "index": 0, "step": {"type": "thought"}},
        _delta(0, type="thought_summary", content={"type": "text", "text": "Plan: "}),
        _delta(0, type="thought_summary", content={"type": "text", "text": "search."}),
        _delta(0, type="thought_signature", signature="c2ln"),
        {"event_type": "step.stop", "index": 0},
        {"event_type": "step.start", "index": 1, "step": {"type": "model_output"}},
        _delta(1, type="text", text="Paris is "),
        _delta(1, type="text", text="the capital."),
        _delta(
            1,
            type="text_annotation_delta",
            annotations=[
                {"type": "url_citation", "url": "https://fr", "start_index": 0, "end_index": 5}
            ],
        ),
        _delta(1, type="image", data="aGk=", mime_type="image/png"),
        _delta(1, type="hologram", frame=1),
        {"event_type": "step.stop", "index": 1, "usage": {"total_tokens": 5}},
        {
            "event_type": "interaction.completed",
            "interaction": {"id": "v1_a", "status": "completed", "usage": {"total_tokens": 9}},
        },
    )
    assert assembler.completed
    result = assembler.result()
    assert (result.id, result.status, result.model) == ("v1_a", "completed", "m")
    thought, output = result.steps
    assert isinstance(thought, w.ThoughtStep)
    assert thought.signature == "c2ln"
    assert [s.to_wire() for s in thought.summary] == [{"type": "text", "text": "Plan: search."}]
    assert isinstance(output, w.ModelOutputStep)
    text, image = output.content
    assert isinstance(text, w.TextContent) and isinstance(image, w.ImageContent)
    assert text.text == "Paris is the capital."
    assert isinstance(text.annotations[0], w.UrlCitation)
    assert result.output_text == "Paris is the capital."  # trailing media is skipped
    assert result.usage is not None and result.usage.total_tokens == 9


def test_assembler_fills_tool_steps_from_their_deltas() -> None:
    result = _feed(
        {
            "event_type": "step.start",
            "index": 0,
            "step": {"type": "google_search_call", "id": "s1"},
        },
        _delta(0, type="google_search_call", arguments={"queries": ["weather"]}, signature="sig"),
        {
            "event_type": "step.start",
            "index": 1,
            "step": {"type": "google_search_result", "call_id": "s1"},
        },
        _delta(1, type="google_search_result", result=[{"search_suggestions": "<div/>"}]),
        {
            "event_type": "step.start",
            "index": 2,
            "step": {"type": "code_execution_call", "id": "x"},
        },
        _delta(2, type="code_execution_call", arguments={"code": "print(1)", "language": "python"}),
        _delta(3, type="code_execution_result", result="1\n"),
        {
            "event_type": "step.start",
            "index": 4,
            "step": {"type": "function_result", "call_id": "c"},
        },
        _delta(4, type="function_result", result={"ok": True}, name="f"),
    ).result()
    search, found, code, ran, answered = result.steps
    assert isinstance(search, w.GoogleSearchCallStep)
    assert (search.id, search.arguments.queries, search.signature) == ("s1", ["weather"], "sig")
    assert (
        isinstance(found, w.GoogleSearchResultStep)
        and found.result[0].search_suggestions == "<div/>"
    )
    assert isinstance(code, w.CodeExecutionCallStep) and code.arguments.code == "print(1)"
    # A delta whose step.start was never seen still lands in a step of the right type.
    assert isinstance(ran, w.CodeExecutionResultStep) and ran.result == "1\n"
    assert isinstance(answered, w.FunctionResultStep) and answered.result == {"ok": True}


def test_assembler_builds_tool_search_steps_from_their_deltas() -> None:
    declaration = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    result = _feed(
        {"event_type": "step.start", "index": 0, "step": {"type": "tool_search_call", "id": "t1"}},
        _delta(0, type="tool_search_call", arguments={"function_names": ["get_weather"]}),
        {"event_type": "step.stop", "index": 0},
        {
            "event_type": "step.start",
            "index": 1,
            "step": {"type": "tool_search_result", "call_id": "t1"},
        },
        _delta(1, type="tool_search_result", result=[declaration], signature="sig"),
        {"event_type": "step.stop", "index": 1},
    ).result()
    call, loaded = result.steps
    assert isinstance(call, w.ToolSearchCallStep)
    assert (call.id, call.arguments.function_names) == ("t1", ["get_weather"])
    assert isinstance(loaded, w.ToolSearchResultStep)
    assert loaded.call_id == "t1" and loaded.signature == "sig"
    assert [f.name for f in loaded.result] == ["get_weather"]
    assert loaded.result[0].parameters == {"type": "object"}


def test_assembler_keeps_deltas_of_unknown_types_on_their_step() -> None:
    result = _feed(
        {"event_type": "step.start", "index": 0, "step": {"type": "hologram_call", "id": "h1"}},
        _delta(0, type="hologram_call", arguments={"beam": 2}),
        {"event_type": "step.start", "index": 1, "step": {"type": "model_output"}},
        _delta(1, type="text", text="hi"),
        _delta(1, type="smell", ppm=3),
        # A newer step streamed mid-stream, its start never seen.
        _delta(2, type="sonar_result", result=[1]),
    ).result()
    hologram, output, sonar = result.steps
    assert isinstance(hologram, w.UnknownStep)
    assert hologram.raw == {"type": "hologram_call", "id": "h1", "arguments": {"beam": 2}}
    assert isinstance(output, w.ModelOutputStep) and result.output_text == "hi"
    assert output.model_extra == {"unknown_deltas": [{"type": "smell", "ppm": 3}]}
    assert isinstance(sonar, w.UnknownStep) and sonar.raw == {"type": "sonar_result", "result": [1]}


def test_assembler_joins_streamed_function_arguments() -> None:
    result = _feed(
        {
            "event_type": "step.start",
            "index": 0,
            "step": {"type": "function_call", "id": "c1", "name": "get_weather"},
        },
        _delta(0, type="arguments_delta", arguments='{"city": '),
        _delta(0, type="arguments_delta", arguments='"Paris"}'),
        {"event_type": "step.stop", "index": 0},
        {
            "event_type": "step.start",
            "index": 1,
            "step": {"type": "function_call", "id": "c2", "name": "g"},
        },
        _delta(1, type="arguments_delta", arguments='{"broken'),
        {
            "event_type": "interaction.completed",
            "interaction": {"id": "v1_a", "status": "requires_action"},
        },
    ).result()
    first, second = result.function_calls
    assert (first.id, first.name, first.arguments) == ("c1", "get_weather", {"city": "Paris"})
    assert second.arguments == {}
    assert second.model_extra == {"partial_arguments": '{"broken'}
    assert result.status == "requires_action"


def test_assembler_infers_step_types_when_joining_mid_stream() -> None:
    result = _feed(
        _delta(0, type="thought_summary", content={"type": "text", "text": "x"}),
        _delta(1, type="text", text="answer"),
        _delta(2, type="arguments_delta", arguments={"a": 1}),
        _delta(3, type="text_annotation_delta", annotations=[]),
    ).result()
    assert [type(s) for s in result.steps] == [
        w.ThoughtStep,
        w.ModelOutputStep,
        w.FunctionCallStep,
        w.ModelOutputStep,
    ]
    assert result.output_text == ""


def test_status_update_carries_checkpoint_token_and_usage_but_completion_is_authoritative() -> None:
    assembler = _feed(
        {
            "event_type": "interaction.status_update",
            "interaction_id": "v1_a",
            "status": "in_progress",
            "continuation_token": "mid",
            "usage": {"total_tokens": 2},
        },
        {
            "event_type": "step.delta",
            "index": 0,
            "delta": {"type": "text", "text": "a"},
            "metadata": {"total_usage": {"total_tokens": 3}},
        },
    )
    assert assembler.interaction_id == "v1_a"
    interim = assembler.result()
    assert interim.continuation_token == "mid"
    assert interim.usage is not None and interim.usage.total_tokens == 3
    assembler.feed(
        w.parse_event(
            {
                "event_type": "interaction.completed",
                "interaction": {"id": "v1_a", "status": "completed"},
            }
        )
    )
    assert assembler.result().continuation_token is None


def test_steps_sent_with_the_completion_replace_the_assembled_ones() -> None:
    result = _feed(
        _delta(0, type="text", text="partial"),
        {
            "event_type": "interaction.completed",
            "interaction": {
                "id": "v1_a",
                "status": "completed",
                "steps": [{"type": "model_output", "content": [{"type": "text", "text": "full"}]}],
            },
        },
    ).result()
    assert result.output_text == "full"


def test_error_events_are_recorded() -> None:
    assembler = _feed({"event_type": "error", "error": {"code": "safety", "message": "blocked"}})
    assert len(assembler.errors) == 1
    result = assembler.result()
    assert result.errors[0].code == "safety"


def test_update_takes_fields_but_not_steps() -> None:
    assembler = _feed(_delta(0, type="text", text="mine"))
    assembler.update(
        w.Interaction.model_validate(
            {"id": "v1_a", "status": "completed", "steps": [{"type": "user_input"}]}
        )
    )
    result = assembler.result()
    assert (result.id, result.status, result.output_text) == ("v1_a", "completed", "mine")


@pytest.mark.anyio
async def test_an_event_larger_than_httpx2s_default_limit_is_read() -> None:
    data = "A" * (3 * 1024 * 1024)
    frame = (
        b'data: {"event_type":"step.delta","index":0,"delta":{"type":"image","data":"'
        + data.encode()
        + b'"}}\n\n'
    )
    (event,) = await _events(frame)
    assert isinstance(event, w.StepDeltaEvent)
    assert isinstance(event.delta, w.ImageDelta) and event.delta.data == data
