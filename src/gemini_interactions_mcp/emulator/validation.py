"""Validation of a create body and normalisation of its ``input`` into steps.

The checks follow the real API's answers (reference §2 and §9.2): 400 ``invalid_request``
for malformed or contradictory fields, 400 ``parameter_unknown`` for unknown top-level
fields (switchable), 404 ``model_not_found`` for unknown or retired model and agent ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig
from .errors import invalid, not_found
from .media import check_media
from .tools import check_tools

KNOWN_FIELDS = frozenset(
    {
        "model",
        "agent",
        "agent_config",
        "input",
        "previous_interaction_id",
        "system_instruction",
        "tools",
        "generation_config",
        "response_format",
        "response_mime_type",
        "response_modalities",
        "safety_settings",
        "store",
        "background",
        "stream",
        "continuation_token",
        "service_tier",
        "labels",
        "webhook_config",
        "environment",
        "cached_content",
    }
)

# Fields the response echoes back; they belong to one interaction and are never inherited.
ECHO_FIELDS = (
    "system_instruction",
    "tools",
    "generation_config",
    "response_format",
    "response_mime_type",
    "response_modalities",
    "safety_settings",
    "service_tier",
    "labels",
    "webhook_config",
    "agent_config",
    "environment",
)

CONTENT_TYPES = frozenset({"text", "image", "audio", "video", "document"})
STEP_TYPES = frozenset(
    {
        "user_input",
        "model_output",
        "thought",
        "function_call",
        "function_result",
        "code_execution_call",
        "code_execution_result",
        "url_context_call",
        "url_context_result",
        "google_search_call",
        "google_search_result",
        "google_maps_call",
        "google_maps_result",
        "file_search_call",
        "file_search_result",
        "mcp_server_tool_call",
        "mcp_server_tool_result",
        "retrieval_call",
        "retrieval_result",
        "processing_call",
        "processing_result",
        "tool_search_call",
        "tool_search_result",
    }
)
# What a list-valued function result may hold: content, or function declarations (the
# answer of a client-side tool search).
RESULT_ITEM_TYPES = CONTENT_TYPES | {"function"}
ENVIRONMENT_MODES = frozenset({"on_demand", "self_hosted"})
AGENT_CONFIG_CHOICES: dict[str, frozenset[Any]] = {
    "thinking_summaries": frozenset({"auto", "none"}),
    "visualization": frozenset({"off", "auto"}),
    "collaborative_planning": frozenset({True, False}),
    "enable_bigquery_tool": frozenset({True, False}),
}
GENERATION_CHOICES: dict[str, frozenset[str]] = {
    "thinking_summaries": frozenset({"auto", "none"}),
    "thinking_level": frozenset({"minimal", "low", "medium", "high", "xhigh"}),
}


@dataclass
class CreateRequest:
    """A validated create body."""

    body: dict[str, Any]
    model: str | None
    agent: str | None
    input_steps: list[dict[str, Any]]
    previous_interaction_id: str | None = None
    system_instruction: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    generation_config: dict[str, Any] = field(default_factory=dict)
    agent_config: dict[str, Any] = field(default_factory=dict)
    store: bool = True
    background: bool = False
    stream: bool = False
    continuation_token: str | None = None

    @property
    def has_input(self) -> bool:
        return "input" in self.body


def parse_create(body: Any, config: EmulatorConfig) -> CreateRequest:
    """Validate a create body, raising :class:`ApiError` the way the real API answers."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    if config.reject_unknown_fields:
        for name in body:
            if name not in KNOWN_FIELDS:
                raise invalid(
                    f"Unknown parameter '{name}': cannot find field.", code="parameter_unknown"
                )
    model, agent = body.get("model"), body.get("agent")
    if model is not None and agent is not None:
        raise invalid("Specify either 'model' or 'agent', not both.")
    if model is None and agent is None:
        raise invalid("One of 'model' or 'agent' is required.")
    for name in ("previous_interaction_id", "system_instruction", "continuation_token"):
        _expect(body, name, str)
    for name in ("store", "background", "stream"):
        _expect(body, name, bool)
    for name in ("generation_config", "agent_config"):
        _expect(body, name, dict)
    _expect(body, "tools", list)
    if "input" not in body and not (
        body.get("continuation_token") and body.get("previous_interaction_id")
    ):
        raise invalid("'input' is required.")
    request = CreateRequest(
        body=body,
        model=_check_model(model, config),
        agent=_check_agent(agent, body, config),
        input_steps=normalise_input(body["input"]) if "input" in body else [],
        previous_interaction_id=body.get("previous_interaction_id"),
        system_instruction=body.get("system_instruction") or None,
        tools=check_tools(body.get("tools") or []),
        generation_config=_check_generation_config(body.get("generation_config") or {}),
        agent_config=body.get("agent_config") or {},
        store=body.get("store", True),
        background=body.get("background", False),
        stream=body.get("stream", False),
        continuation_token=body.get("continuation_token"),
    )
    if request.background and not request.store:
        raise invalid("'background' requires 'store' to be true.")
    if "environment" in body:
        _check_environment(body["environment"])
    return request


def _expect(body: dict[str, Any], name: str, kind: type) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise invalid(f"Invalid value at '{name}': expected {kind.__name__}.")


def _check_model(model: Any, config: EmulatorConfig) -> str | None:
    if model is None:
        return None
    if not isinstance(model, str) or not model:
        raise invalid("Invalid value at 'model': expected a model id.")
    if model in config.retired_models:
        raise not_found(
            f"Model '{model}' has been retired and is no longer available.",
            code="model_not_found",
        )
    if model not in config.models:
        raise not_found(f"Model '{model}' is not found.", code="model_not_found")
    return model


def _check_agent(agent: Any, body: dict[str, Any], config: EmulatorConfig) -> str | None:
    if agent is None:
        if "agent_config" in body:
            raise invalid("'agent_config' can only be used with 'agent'.")
        return None
    if isinstance(agent, str) and agent in config.retired_agents:
        raise not_found(
            f"Agent '{agent}' has been retired and is no longer available.",
            code="model_not_found",
        )
    if not isinstance(agent, str) or agent not in config.agents:
        raise not_found(f"Agent '{agent}' is not found.", code="model_not_found")
    for name in ("generation_config", "cached_content"):
        if name in body:
            raise invalid(f"'{name}' cannot be used with 'agent'.")
    if not body.get("background"):
        raise invalid(f"Agent '{agent}' requires 'background' to be true.")
    agent_config = body.get("agent_config") or {}
    if isinstance(agent_config, dict) and agent_config:
        if agent_config.get("type") != "deep-research":
            raise invalid(
                f"The value '{agent_config.get('type')}' is not supported for "
                "'type' at 'agent_config'."
            )
        for key, value in agent_config.items():
            choices = AGENT_CONFIG_CHOICES.get(key)
            if key != "type" and (choices is None or value not in choices):
                raise invalid(f"Invalid value at 'agent_config.{key}'.")
    return agent


def _check_environment(environment: Any) -> None:
    if isinstance(environment, str):
        return
    if not isinstance(environment, dict):
        raise invalid("Invalid value at 'environment': expected an environment id or an object.")
    if environment.get("type", "remote") != "remote":
        raise invalid(
            f"The value '{environment.get('type')}' is not supported for 'type' at 'environment'."
        )
    mode = environment.get("mode")
    if mode is not None and mode not in ENVIRONMENT_MODES:
        raise invalid(f"The value '{mode}' is not supported for 'mode' at 'environment'.")
    if "custom_config" in environment:
        if not isinstance(environment["custom_config"], dict):
            raise invalid("Invalid value at 'environment.custom_config': expected an object.")
        if mode != "self_hosted":
            raise invalid(
                "'environment.custom_config' is only supported when 'mode' is 'self_hosted'."
            )


def _check_generation_config(config: dict[str, Any]) -> dict[str, Any]:
    for key, choices in GENERATION_CHOICES.items():
        if key in config and config[key] not in choices:
            raise invalid(
                f"The value '{config[key]}' is not supported for '{key}' at 'generation_config'."
            )
    return config


def normalise_input(value: Any) -> list[dict[str, Any]]:
    """Turn any of the four accepted ``input`` shapes into a list of steps."""
    if isinstance(value, str):
        return [{"type": "user_input", "content": [{"type": "text", "text": value}]}]
    if isinstance(value, dict):
        if value.get("type") in STEP_TYPES or "role" in value:
            return [_normalise_step(value, "input")]
        return [{"type": "user_input", "content": [_normalise_content(value, "input")]}]
    if isinstance(value, list):
        if not value:
            raise invalid("'input' must not be empty.")
        if any(_looks_like_step(item) for item in value):
            return [_normalise_step(item, f"input[{i}]") for i, item in enumerate(value)]
        content = [_normalise_content(item, f"input[{i}]") for i, item in enumerate(value)]
        return [{"type": "user_input", "content": content}]
    raise invalid("Invalid value at 'input': expected a string, a content object or a list.")


def _looks_like_step(item: Any) -> bool:
    return isinstance(item, dict) and (
        item.get("type") in STEP_TYPES or "role" in item or "content" in item
    )


def _normalise_step(step: Any, where: str) -> dict[str, Any]:
    if not isinstance(step, dict):
        raise invalid(f"Invalid value at '{where}': expected a step object.")
    if "type" not in step and "role" in step:
        # Older turn objects ({"role": "user", "content": [...]}) still come from some clients.
        kind = "model_output" if step["role"] == "model" else "user_input"
        step = {"type": kind, "content": step.get("content", [])}
    kind = step.get("type", "user_input")
    if kind not in STEP_TYPES:
        raise invalid(f"The value '{kind}' is not supported for 'type' at '{where}'.")
    result: dict[str, Any] = {**step, "type": kind}
    step = result
    if kind in ("user_input", "model_output"):
        content = step.get("content", [])
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            raise invalid(f"Invalid value at '{where}.content': expected a list.")
        step["content"] = [
            _normalise_content(block, f"{where}.content[{j}]") for j, block in enumerate(content)
        ]
    if kind == "function_result":
        if not isinstance(step.get("call_id"), str) or "result" not in step:
            raise invalid(f"'call_id' and 'result' are required at '{where}'.")
        _check_result_items(step["result"], f"{where}.result")
    elif kind == "tool_search_call" and not (
        isinstance(step.get("id"), str) and isinstance(step.get("arguments"), dict)
    ):
        raise invalid(f"'id' and 'arguments' are required at '{where}'.")
    elif kind == "tool_search_result" and not isinstance(step.get("call_id"), str):
        raise invalid(f"'call_id' is required at '{where}'.")
    return result


def _check_result_items(value: Any, where: str) -> None:
    if not isinstance(value, list):
        return
    for j, item in enumerate(value):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in RESULT_ITEM_TYPES:
            raise invalid(f"The value '{kind}' is not supported for 'type' at '{where}[{j}]'.")
        if kind != "function":
            check_media(item, f"{where}[{j}]")


def _normalise_content(block: Any, where: str) -> dict[str, Any]:
    if not isinstance(block, dict):
        raise invalid(f"Invalid value at '{where}': expected a content object.")
    kind = block.get("type")
    if kind is None and "text" in block:
        kind = "text"
    if kind not in CONTENT_TYPES:
        raise invalid(f"The value '{kind}' is not supported for 'type' at '{where}'.")
    if kind == "text" and not isinstance(block.get("text"), str):
        raise invalid(f"'text' is required at '{where}'.")
    normalised = {**block, "type": kind}
    check_media(normalised, where)
    return normalised


def user_text(steps: list[dict[str, Any]]) -> str | None:
    """Text of the last ``user_input`` step, or None when the input has none."""
    for step in reversed(steps):
        if step["type"] == "user_input":
            texts = [b["text"] for b in step.get("content", []) if b.get("type") == "text"]
            return " ".join(texts)
    return None


def count_turns(steps: list[dict[str, Any]]) -> int:
    """User turns in an input: each user_input step, and each run of function results."""
    turns = 0
    previous = None
    for step in steps:
        kind = step["type"]
        if kind == "user_input" or (kind == "function_result" and previous != kind):
            turns += 1
        previous = kind
    return turns


def input_chars(steps: list[dict[str, Any]]) -> int:
    """A rough size of an input, for token usage."""
    total = 0
    for step in steps:
        for block in step.get("content", []):
            total += len(block.get("text", "")) if block.get("type") == "text" else 256
        if "result" in step:
            total += len(str(step["result"]))
    return total
