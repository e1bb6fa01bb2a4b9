from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from gemini_interactions_mcp.upstream import wire as w

STEPS: list[tuple[dict[str, Any], type[Any]]] = [
    ({"type": "user_input", "content": [{"type": "text", "text": "hi"}]}, w.UserInputStep),
    (
        {"type": "model_output", "content": [], "error": {"code": 8, "message": "quota"}},
        w.ModelOutputStep,
    ),
    (
        {"type": "thought", "signature": "c2ln", "summary": [{"type": "text", "text": "hm"}]},
        w.ThoughtStep,
    ),
    ({"type": "function_call", "id": "c1", "name": "f", "arguments": {"a": 1}}, w.FunctionCallStep),
    (
        {"type": "function_result", "call_id": "c1", "result": "ok", "is_error": False},
        w.FunctionResultStep,
    ),
    (
        {
            "type": "code_execution_call",
            "id": "x1",
            "arguments": {"code": "1+1", "language": "python"},
        },
        w.CodeExecutionCallStep,
    ),
    ({"type": "code_execution_result", "call_id": "x1", "result": "2"}, w.CodeExecutionResultStep),
    (
        {"type": "url_context_call", "id": "u1", "arguments": {"urls": ["https://a"]}},
        w.UrlContextCallStep,
    ),
    (
        {
            "type": "url_context_result",
            "call_id": "u1",
            "result": [{"url": "https://a", "status": "success"}],
        },
        w.UrlContextResultStep,
    ),
    (
        {
            "type": "google_search_call",
            "id": "s1",
            "arguments": {"queries": ["q"]},
            "search_type": "web_search",
        },
        w.GoogleSearchCallStep,
    ),
    (
        {
            "type": "google_search_result",
            "call_id": "s1",
            "result": [{"search_suggestions": "<div/>"}],
        },
        w.GoogleSearchResultStep,
    ),
    (
        {"type": "google_maps_call", "id": "m1", "arguments": {"queries": ["cafe"]}},
        w.GoogleMapsCallStep,
    ),
    (
        {
            "type": "google_maps_result",
            "call_id": "m1",
            "result": [
                {"places": [{"name": "Cafe", "place_id": "p", "review_snippets": [{"title": "t"}]}]}
            ],
        },
        w.GoogleMapsResultStep,
    ),
    ({"type": "file_search_call", "id": "f1"}, w.FileSearchCallStep),
    (
        {"type": "file_search_result", "call_id": "f1", "result": [{"any": "thing"}]},
        w.FileSearchResultStep,
    ),
    (
        {
            "type": "mcp_server_tool_call",
            "id": "t1",
            "name": "n",
            "server_name": "srv",
            "arguments": {},
        },
        w.McpServerToolCallStep,
    ),
    (
        {
            "type": "mcp_server_tool_result",
            "call_id": "t1",
            "result": [{"type": "text", "text": "r"}],
        },
        w.McpServerToolResultStep,
    ),
    (
        {
            "type": "retrieval_call",
            "id": "r1",
            "arguments": {"queries": ["q"]},
            "retrieval_type": "rag_store",
        },
        w.RetrievalCallStep,
    ),
    ({"type": "retrieval_result", "call_id": "r1", "is_error": False}, w.RetrievalResultStep),
    ({"type": "processing_call", "id": "p1"}, w.ProcessingCallStep),
    ({"type": "processing_result", "call_id": "p1"}, w.ProcessingResultStep),
    (
        {
            "type": "tool_search_call",
            "id": "ts1",
            "arguments": {"function_names": ["get_weather"]},
            "signature": "c2ln",
        },
        w.ToolSearchCallStep,
    ),
    (
        {
            "type": "tool_search_result",
            "call_id": "ts1",
            "result": [
                {
                    "type": "function",
                    "name": "get_weather",
                    "description": "Weather now.",
                    "parameters": {"type": "object"},
                    "defer_loading": False,
                }
            ],
            "signature": "c2ln",
        },
        w.ToolSearchResultStep,
    ),
]

CONTENTS: list[tuple[dict[str, Any], type[Any]]] = [
    ({"type": "text", "text": "t"}, w.TextContent),
    (
        {"type": "image", "data": "aGk=", "mime_type": "image/png", "resolution": "low"},
        w.ImageContent,
    ),
    ({"type": "audio", "uri": "gs://a.wav", "channels": 1, "sample_rate": 16000}, w.AudioContent),
    (
        {"type": "video", "uri": "gs://v.mp4", "processing": {"type": "static", "fps": 1}},
        w.VideoContent,
    ),
    ({"type": "document", "uri": "gs://d.pdf", "mime_type": "application/pdf"}, w.DocumentContent),
]

# Each content with every processing form it takes (google-genai 3.6.1).
PROCESSED: list[tuple[dict[str, Any], type[Any]]] = [
    ({"type": "audio", "uri": "gs://a.wav", "processing": "static"}, str),
    (
        {
            "type": "audio",
            "uri": "gs://a.wav",
            "processing": {"type": "static", "start_offset": "10.5s", "end_offset": "30s"},
        },
        w.AudioStaticProcessing,
    ),
    (
        {
            "type": "document",
            "uri": "gs://d.pdf",
            "resolution": "high",
            "processing": {
                "type": "static",
                "page_options": {
                    "content_layers": ["page_image", "page_text"],
                    "start_page": 2,
                    "end_page": 5,
                },
            },
        },
        w.DocumentStaticProcessing,
    ),
    (
        {
            "type": "document",
            "uri": "gs://s.xlsx",
            "processing": {
                "type": "static",
                "spreadsheet_options": {
                    "content_layers": ["data", "formulas"],
                    "sheet_index": 2,
                    "visible_cells": "A1:D10",
                },
            },
        },
        w.DocumentStaticProcessing,
    ),
    (
        {
            "type": "video",
            "uri": "gs://v.mp4",
            "processing": {
                "type": "static",
                "fps": 0.5,
                "start_offset": "1s",
                "content_layers": ["frames", "transcript"],
            },
        },
        w.VideoStaticProcessing,
    ),
    ({"type": "video", "uri": "gs://v.mp4", "processing": "agentic"}, str),
]

ANNOTATIONS: list[tuple[dict[str, Any], type[Any]]] = [
    (
        {
            "type": "url_citation",
            "url": "https://a",
            "title": "A",
            "start_index": 0,
            "end_index": 3,
        },
        w.UrlCitation,
    ),
    ({"type": "file_citation", "file_name": "f.pdf", "page_number": 2}, w.FileCitation),
    (
        {"type": "place_citation", "place_id": "p", "review_snippets": [{"review_id": "r"}]},
        w.PlaceCitation,
    ),
    ({"type": "speech_metadata", "speaker": "A", "style": "calm"}, w.SpeechMetadata),
    ({"type": "word_info", "text": "hi", "start_offset": "0.1s"}, w.WordInfo),
]

DELTAS: list[tuple[dict[str, Any], type[Any]]] = [
    ({"type": "text", "text": "x"}, w.TextDelta),
    ({"type": "image", "data": "aGk="}, w.ImageDelta),
    ({"type": "audio", "data": "aGk=", "rate": 8000}, w.AudioDelta),
    ({"type": "video", "uri": "gs://v"}, w.VideoDelta),
    ({"type": "document", "uri": "gs://d"}, w.DocumentDelta),
    (
        {"type": "text_annotation_delta", "annotations": [{"type": "url_citation", "url": "u"}]},
        w.TextAnnotationDelta,
    ),
    ({"type": "thought_summary", "content": {"type": "text", "text": "s"}}, w.ThoughtSummaryDelta),
    ({"type": "thought_signature", "signature": "c2ln"}, w.ThoughtSignatureDelta),
    ({"type": "arguments_delta", "arguments": '{"a":'}, w.ArgumentsDelta),
    ({"type": "function_result", "result": {"ok": 1}, "name": "f"}, w.FunctionResultDelta),
    ({"type": "code_execution_call", "arguments": {"code": "1"}}, w.CodeExecutionCallDelta),
    (
        {"type": "code_execution_result", "result": "1", "is_error": False},
        w.CodeExecutionResultDelta,
    ),
    ({"type": "url_context_call", "arguments": {"urls": ["u"]}}, w.UrlContextCallDelta),
    (
        {"type": "url_context_result", "result": [{"url": "u", "status": "paywall"}]},
        w.UrlContextResultDelta,
    ),
    ({"type": "google_search_call", "arguments": {"queries": ["q"]}}, w.GoogleSearchCallDelta),
    (
        {"type": "google_search_result", "result": [{"search_suggestions": "s"}]},
        w.GoogleSearchResultDelta,
    ),
    ({"type": "google_maps_call", "arguments": {"queries": ["q"]}}, w.GoogleMapsCallDelta),
    ({"type": "google_maps_result", "result": [{"places": []}]}, w.GoogleMapsResultDelta),
    ({"type": "file_search_call"}, w.FileSearchCallDelta),
    ({"type": "file_search_result", "result": [{}]}, w.FileSearchResultDelta),
    (
        {"type": "mcp_server_tool_call", "name": "n", "server_name": "s", "arguments": {}},
        w.McpServerToolCallDelta,
    ),
    ({"type": "mcp_server_tool_result", "result": "r"}, w.McpServerToolResultDelta),
    ({"type": "retrieval_call", "arguments": {"queries": ["q"]}}, w.RetrievalCallDelta),
    ({"type": "retrieval_result", "is_error": True}, w.RetrievalResultDelta),
    ({"type": "processing_call"}, w.ProcessingCallDelta),
    ({"type": "processing_result"}, w.ProcessingResultDelta),
    (
        {"type": "tool_search_call", "arguments": {"function_names": ["f"]}, "signature": "s"},
        w.ToolSearchCallDelta,
    ),
    (
        {"type": "tool_search_result", "result": [{"type": "function", "name": "f"}]},
        w.ToolSearchResultDelta,
    ),
]

TOOLS: list[tuple[dict[str, Any], type[Any]]] = [
    (
        {
            "type": "function",
            "name": "f",
            "description": "Does f.",
            "parameters": {"type": "object"},
            "defer_loading": True,
            "short_description": "f things",
        },
        w.FunctionTool,
    ),
    ({"type": "tool_search"}, w.ToolSearchTool),
    (
        {
            "type": "tool_search",
            "execution": "client",
            "name": "find_tools",
            "description": "Finds tools.",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
        w.ToolSearchTool,
    ),
    (
        {
            "type": "mcp_server",
            "name": "srv",
            "url": "https://x/mcp",
            "headers": {"Authorization": "Bearer t"},
            "allowed_tools": [{"mode": "auto", "tools": ["a"]}],
            "defer_loading": True,
        },
        w.McpServerTool,
    ),
    ({"type": "google_search", "search_types": ["web_search"]}, w.GoogleSearchTool),
    ({"type": "code_execution"}, w.CodeExecutionTool),
    ({"type": "url_context"}, w.UrlContextTool),
    (
        {"type": "file_search", "file_search_store_names": ["s"], "top_k": 3},
        w.FileSearchTool,
    ),
    ({"type": "google_maps", "enable_widget": True, "latitude": 1.5}, w.GoogleMapsTool),
    ({"type": "computer_use", "environment": "browser"}, w.ComputerUseTool),
    (
        {"type": "retrieval", "retrieval_types": ["rag_store"], "rag_store_config": {"a": 1}},
        w.RetrievalTool,
    ),
]

EVENTS: list[tuple[dict[str, Any], type[Any]]] = [
    (
        {
            "event_type": "interaction.created",
            "interaction": {"id": "v1_a", "status": "in_progress"},
        },
        w.InteractionCreatedEvent,
    ),
    (
        {
            "event_type": "interaction.status_update",
            "interaction_id": "v1_a",
            "status": "in_progress",
            "continuation_token": "t",
        },
        w.InteractionStatusUpdateEvent,
    ),
    ({"event_type": "step.start", "index": 0, "step": {"type": "thought"}}, w.StepStartEvent),
    (
        {
            "event_type": "step.delta",
            "index": 0,
            "delta": {"type": "text", "text": "x"},
            "metadata": {"total_usage": {"total_tokens": 1}},
        },
        w.StepDeltaEvent,
    ),
    ({"event_type": "step.stop", "index": 0, "usage": {"total_tokens": 2}}, w.StepStopEvent),
    (
        {
            "event_type": "interaction.completed",
            "interaction": {"id": "v1_a", "status": "completed"},
        },
        w.InteractionCompletedEvent,
    ),
    ({"event_type": "error", "error": {"code": "safety", "message": "blocked"}}, w.ErrorEvent),
]

_STEP = TypeAdapter[w.Step](w.Step)
_CONTENT = TypeAdapter[w.Content](w.Content)
_ANNOTATION = TypeAdapter[w.Annotation](w.Annotation)
_DELTA = TypeAdapter[w.Delta](w.Delta)
_TOOL = TypeAdapter[w.Tool](w.Tool)


@pytest.mark.parametrize(("raw", "cls"), STEPS, ids=[s[0]["type"] for s in STEPS])
def test_every_step_type_parses_to_its_model(raw: dict[str, Any], cls: type[Any]) -> None:
    step = _STEP.validate_python(raw)
    assert type(step) is cls
    assert step.to_wire() == raw


@pytest.mark.parametrize(("raw", "cls"), CONTENTS, ids=[c[0]["type"] for c in CONTENTS])
def test_every_content_type_parses_to_its_model(raw: dict[str, Any], cls: type[Any]) -> None:
    content = _CONTENT.validate_python(raw)
    assert type(content) is cls
    assert content.to_wire() == raw


@pytest.mark.parametrize(
    ("raw", "cls"), PROCESSED, ids=[str(p[0]["processing"]) for p in PROCESSED]
)
def test_audio_document_and_video_processing_parse_and_round_trip(
    raw: dict[str, Any], cls: type[Any]
) -> None:
    content = _CONTENT.validate_python(raw)
    assert type(getattr(content, "processing", None)) is cls
    assert content.to_wire() == raw


def test_a_processing_object_of_an_unknown_type_is_kept() -> None:
    raw = {"type": "video", "uri": "u", "processing": {"type": "agentic", "budget": 3}}
    content = _CONTENT.validate_python(raw)
    assert isinstance(content, w.VideoContent)
    assert isinstance(content.processing, w.UnknownProcessing)
    assert content.to_wire() == raw


@pytest.mark.parametrize(("raw", "cls"), TOOLS, ids=[t[0]["type"] for t in TOOLS])
def test_every_tool_type_parses_to_its_model(raw: dict[str, Any], cls: type[Any]) -> None:
    tool = _TOOL.validate_python(raw)
    assert type(tool) is cls
    assert tool.to_wire() == raw


def test_function_result_items_may_be_function_declarations() -> None:
    raw = {
        "type": "function_result",
        "call_id": "c1",
        "name": "find_tools",
        "result": [
            {"type": "function", "name": "get_billing", "parameters": {"type": "object"}},
            {"type": "text", "text": "one more"},
            {"type": "hologram"},
        ],
    }
    step = _STEP.validate_python(raw)
    assert isinstance(step, w.FunctionResultStep)
    assert isinstance(step.result, list)
    assert [type(item) for item in step.result] == [w.FunctionTool, w.TextContent, w.UnknownContent]
    assert step.to_wire() == raw


def test_interaction_echoes_typed_tools_and_environment() -> None:
    raw = {
        "id": "v1_a",
        "status": "completed",
        "tools": [
            {"type": "tool_search"},
            {"type": "function", "name": "f", "defer_loading": True},
            {"type": "teleport"},
        ],
        "environment": {
            "type": "remote",
            "mode": "self_hosted",
            "custom_config": {"queue": "q1"},
            "sources": [{"type": "inline", "target": "a.txt", "content": "hi"}],
        },
    }
    interaction = w.Interaction.model_validate(raw)
    assert interaction.tools is not None
    assert [type(t) for t in interaction.tools] == [w.ToolSearchTool, w.FunctionTool, w.UnknownTool]
    assert isinstance(interaction.environment, w.Environment)
    assert interaction.environment.mode == "self_hosted"
    assert interaction.to_wire() == raw
    by_id = w.Interaction.model_validate({"id": "v1_a", "status": "completed", "environment": "e1"})
    assert by_id.environment == "e1"


@pytest.mark.parametrize(("raw", "cls"), ANNOTATIONS, ids=[a[0]["type"] for a in ANNOTATIONS])
def test_every_annotation_type_parses_to_its_model(raw: dict[str, Any], cls: type[Any]) -> None:
    annotation = _ANNOTATION.validate_python(raw)
    assert type(annotation) is cls
    assert annotation.to_wire() == raw


@pytest.mark.parametrize(("raw", "cls"), DELTAS, ids=[d[0]["type"] for d in DELTAS])
def test_every_delta_type_parses_to_its_model(raw: dict[str, Any], cls: type[Any]) -> None:
    delta = _DELTA.validate_python(raw)
    assert type(delta) is cls
    assert delta.to_wire() == raw


@pytest.mark.parametrize(("raw", "cls"), EVENTS, ids=[e[0]["event_type"] for e in EVENTS])
def test_every_event_type_parses_to_its_model(raw: dict[str, Any], cls: type[Any]) -> None:
    event = w.parse_event(raw)
    assert type(event) is cls


def test_unknown_step_content_annotation_and_delta_keep_the_raw_object() -> None:
    step = _STEP.validate_python({"type": "hologram_call", "id": "h", "beam": [1, 2]})
    assert isinstance(step, w.UnknownStep)
    assert step.raw == {"type": "hologram_call", "id": "h", "beam": [1, 2]}
    content = _CONTENT.validate_python({"type": "smell", "ppm": 3})
    assert isinstance(content, w.UnknownContent)
    assert content.raw == {"type": "smell", "ppm": 3}
    annotation = _ANNOTATION.validate_python({"type": "star_citation", "star": "Vega"})
    assert isinstance(annotation, w.UnknownAnnotation)
    delta = _DELTA.validate_python({"type": "hologram", "frame": 1})
    assert isinstance(delta, w.UnknownDelta)
    assert delta.raw == {"type": "hologram", "frame": 1}


def test_unknown_event_keeps_the_raw_object() -> None:
    event = w.parse_event(
        {"event_type": "interaction.teleported", "event_id": "e9", "where": "mars"}
    )
    assert isinstance(event, w.UnknownEvent)
    assert event.event_id == "e9"
    assert event.raw == {"event_type": "interaction.teleported", "event_id": "e9", "where": "mars"}


def test_malformed_known_types_fall_back_instead_of_raising() -> None:
    step = _STEP.validate_python({"type": "function_call", "arguments": "not an object"})
    assert isinstance(step, w.UnknownStep)
    assert step.raw["arguments"] == "not an object"
    assert isinstance(_STEP.validate_python("just a string"), w.UnknownStep)
    assert isinstance(_STEP.validate_python({"no": "type"}), w.UnknownStep)
    assert isinstance(w.parse_event([1, 2]), w.UnknownEvent)


def test_unknown_status_and_extra_fields_are_kept() -> None:
    interaction = w.Interaction.model_validate(
        {
            "id": "v1_a",
            "status": "hibernating",
            "object": "interaction",
            "shiny_new_field": {"a": 1},
        }
    )
    assert interaction.status == "hibernating"
    assert not interaction.is_running
    assert interaction.model_extra == {"shiny_new_field": {"a": 1}}
    assert interaction.to_wire()["shiny_new_field"] == {"a": 1}


def test_interaction_with_unknown_items_round_trips_without_warnings() -> None:
    raw = {
        "id": "v1_a",
        "status": "completed",
        "steps": [
            {"type": "model_output", "content": [{"type": "text", "text": "a"}, {"type": "smell"}]},
            {"type": "hologram_call", "id": "h"},
        ],
    }
    interaction = w.Interaction.model_validate(raw)
    assert interaction.to_wire() == raw
    assert w.Interaction.model_validate_json(interaction.model_dump_json()) == interaction


def test_running_statuses() -> None:
    assert w.is_running("queued") and w.is_running("in_progress") and w.is_running(None)
    for status in w.Status:
        if status.value not in w.RUNNING_STATUSES:
            assert not w.is_running(status.value)


def test_idle_and_requires_action_need_input_and_are_not_running() -> None:
    needing = {s.value for s in w.Status if w.needs_input(s.value)}
    assert needing == {"requires_action", "idle"}
    assert not w.is_running("idle")
    assert not w.needs_input(None) and not w.needs_input("hibernating")
    idle = w.Interaction.model_validate({"id": "v1_a", "status": "idle"})
    assert idle.needs_input and not idle.is_running
    done = w.Interaction.model_validate({"id": "v1_a", "status": "completed"})
    assert not done.needs_input


def _interaction(*steps: dict[str, Any]) -> w.Interaction:
    return w.Interaction.model_validate({"id": "v1_a", "status": "completed", "steps": list(steps)})


def _output(*texts: str | None) -> dict[str, Any]:
    content = [
        {"type": "text", "text": t} if t is not None else {"type": "image", "uri": "u"}
        for t in texts
    ]
    return {"type": "model_output", "content": content}


def test_output_text_joins_trailing_text_blocks() -> None:
    interaction = _interaction(
        {"type": "user_input", "content": [{"type": "text", "text": "question"}]},
        {"type": "thought", "summary": [{"type": "text", "text": "thinking"}]},
        _output("Hello ", "world"),
    )
    assert interaction.output_text == "Hello world"


def test_output_text_stops_at_a_tool_step_before_the_answer() -> None:
    interaction = _interaction(
        _output("Let me search."),
        {"type": "google_search_call", "id": "s", "arguments": {"queries": ["q"]}},
        {"type": "google_search_result", "call_id": "s", "result": []},
        _output("Answer."),
    )
    assert interaction.output_text == "Answer."


def test_output_text_skips_thoughts_and_trailing_media() -> None:
    interaction = _interaction(
        _output("part one, "),
        {"type": "thought", "signature": "s"},
        _output("part two", None),
    )
    assert interaction.output_text == "part one, part two"


def test_output_text_stops_at_media_between_texts() -> None:
    assert _interaction(_output("before", None, "after")).output_text == "after"


def test_output_text_ignores_the_previous_turn() -> None:
    interaction = _interaction(
        _output("old answer"),
        {"type": "user_input", "content": [{"type": "text", "text": "next"}]},
        {"type": "function_call", "id": "c", "name": "f", "arguments": {}},
    )
    assert interaction.output_text == ""
    assert [c.name for c in interaction.function_calls] == ["f"]


def test_sum_usage_adds_ints_and_merges_lists_by_key() -> None:
    first = w.Usage.model_validate(
        {
            "total_input_tokens": 10,
            "total_tokens": 15,
            "input_tokens_by_modality": [
                {"modality": "text", "tokens": 8},
                {"modality": "image", "tokens": 2},
            ],
            "grounding_tool_count": [{"type": "google_search", "count": 1}],
            "future_tokens": 1,
        }
    )
    second = w.Usage.model_validate(
        {
            "total_input_tokens": 4,
            "total_output_tokens": 6,
            "total_tokens": 10,
            "initial_input_tokens": 4,
            "input_tokens_by_modality": [
                {"modality": "text", "tokens": 4},
                {"modality": "audio", "tokens": 1},
            ],
            "grounding_tool_count": [
                {"type": "google_search", "count": 2},
                {"type": "google_maps", "count": 1},
            ],
            "future_tokens": 2,
        }
    )
    total = w.sum_usage([first, None, second])
    assert total is not None
    assert total.to_wire() == {
        "total_input_tokens": 14,
        "total_output_tokens": 6,
        "total_tokens": 25,
        "initial_input_tokens": 10,
        "input_tokens_by_modality": [
            {"modality": "text", "tokens": 12},
            {"modality": "image", "tokens": 2},
            {"modality": "audio", "tokens": 1},
        ],
        "output_tokens_by_modality": [],
        "cached_tokens_by_modality": [],
        "tool_use_tokens_by_modality": [],
        "grounding_tool_count": [
            {"type": "google_search", "count": 3},
            {"type": "google_maps", "count": 1},
        ],
        "future_tokens": 3,
    }


def test_sum_usage_of_nothing_is_none() -> None:
    assert w.sum_usage([]) is None
    assert w.sum_usage([None, None]) is None


def test_merge_hops_concatenates_steps_and_sums_usage() -> None:
    hop1 = w.Interaction.model_validate(
        {
            "id": "v1_1",
            "status": "requires_continuation",
            "continuation_token": "t1",
            "created": "2026-11-30T00:00:00Z",
            "previous_interaction_id": "v1_0",
            "steps": [_output("part1 ")],
            "usage": {"total_tokens": 3},
        }
    )
    hop2 = w.Interaction.model_validate(
        {
            "id": "v1_2",
            "status": "completed",
            "created": "2026-11-30T00:00:05Z",
            "previous_interaction_id": "v1_1",
            "steps": [{"type": "user_input", "content": []}, _output("part2")],
            "usage": {"total_tokens": 4},
        }
    )
    merged = w.merge_hops([hop1, hop2])
    assert merged.id == "v1_2"
    assert merged.status == "completed"
    assert merged.continuation_token is None
    assert merged.output_text == "part1 part2"
    assert merged.continuation_ids == ["v1_1", "v1_2"]
    assert merged.created == "2026-11-30T00:00:00Z"
    assert merged.previous_interaction_id == "v1_0"
    assert merged.usage is not None and merged.usage.total_tokens == 7
    assert w.merge_hops([hop1]) is hop1
    with pytest.raises(ValueError):
        w.merge_hops([])
