"""Tool arguments → upstream request fields (pure functions: no HTTP, no MCP)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .arguments import Attachment, BuiltinTool, FunctionDeclaration, FunctionResult
from .errors import ToolError

_DOCUMENT_TYPES = ("application/", "text/")


def build_tools(
    tools: Sequence[str | BuiltinTool] | None,
    functions: Sequence[FunctionDeclaration] | None,
) -> list[dict[str, Any]]:
    """The upstream ``tools`` array for built-in tools (by name or with settings) and functions."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in tools or ():
        spec = BuiltinTool(type=item) if isinstance(item, str) else item
        key = spec.type if spec.type != "mcp_server" else f"mcp_server:{spec.name}"
        if key in seen:
            raise ToolError(f"Built-in tool {key!r} is listed twice; list each tool once.")
        seen.add(key)
        out.append(_builtin(spec))
    names: set[str] = set()
    for fn in functions or ():
        if fn.name in names:
            raise ToolError(f"Function {fn.name!r} is declared twice; declare each name once.")
        names.add(fn.name)
        _check_schema(fn.parameters, f"parameters of function {fn.name!r}")
        declared: dict[str, Any] = {
            "type": "function",
            "name": fn.name,
            "description": fn.description,
            "parameters": fn.parameters,
        }
        if fn.deferred:
            declared["defer_loading"] = True
        out.append(declared)
    return out


def _builtin(spec: BuiltinTool) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": spec.type}
    if spec.type == "file_search":
        if not spec.stores:
            raise ToolError(
                "file_search needs 'stores' (file search store names, e.g. "
                "'fileSearchStores/my-store')."
            )
        tool["file_search_store_names"] = spec.stores
        if spec.top_k is not None:
            tool["top_k"] = spec.top_k
    elif spec.type == "mcp_server":
        if not spec.url or not spec.url.startswith(("https://", "http://")):
            raise ToolError("mcp_server needs 'url', the server's full http(s) endpoint.")
        tool["name"] = spec.name or "mcp"
        tool["url"] = spec.url
        if spec.headers:
            tool["headers"] = spec.headers
        if spec.allowed_tools:
            tool["allowed_tools"] = [{"mode": "auto", "tools": spec.allowed_tools}]
    else:
        extra = {
            k
            for k in ("stores", "top_k", "name", "url", "headers", "allowed_tools")
            if getattr(spec, k) is not None
        }
        if extra:
            raise ToolError(f"{spec.type} takes no settings; remove {', '.join(sorted(extra))}.")
    return tool


def check_response_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Validate a JSON Schema given as response_schema; return the upstream response_format."""
    _check_schema(schema, "response_schema")
    return {"type": "text", "mime_type": "application/json", "schema": schema}


def _check_schema(schema: dict[str, Any], what: str) -> None:
    # jsonschema comes with the MCP SDK; imported here because only a few calls need it.
    from jsonschema import Draft202012Validator, SchemaError

    if not isinstance(schema, dict) or not schema:
        raise ToolError(f"{what} must be a non-empty JSON Schema object.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "the top level"
        raise ToolError(f"{what} is not a valid JSON Schema at {where}: {exc.message}") from None


def parse_json_answer(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """The parsed JSON answer and, if it does not match the schema, a note saying why."""
    import json

    from jsonschema import Draft202012Validator

    try:
        value = json.loads(text)
    except ValueError:
        return None, "The answer is not valid JSON; see text."
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        return value, f"The JSON answer does not match response_schema: {errors[0].message}"
    return value, None


def content_type_for(mime_type: str) -> str:
    """The upstream content block type for a MIME type."""
    major = mime_type.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    return "document"


def build_input(
    prompt: str | None,
    attachments: Sequence[Attachment] | None,
    *,
    allowed_dirs: Sequence[Path],
    max_bytes: int,
    local_files: bool,
) -> str | list[dict[str, Any]]:
    """The upstream ``input``: the prompt alone, or a user_input step with attachments."""
    if not attachments:
        if prompt is None:
            raise ToolError("Give a prompt.")
        return prompt
    content: list[dict[str, Any]] = []
    if prompt:
        content.append({"type": "text", "text": prompt})
    used = 0
    for i, att in enumerate(attachments):
        block, size = _attachment(
            att, i, allowed_dirs=allowed_dirs, max_bytes=max_bytes - used, local_files=local_files
        )
        used += size
        content.append(block)
    return [{"type": "user_input", "content": content}]


def _attachment(
    att: Attachment,
    index: int,
    *,
    allowed_dirs: Sequence[Path],
    max_bytes: int,
    local_files: bool,
) -> tuple[dict[str, Any], int]:
    given = [k for k in ("uri", "data", "path") if getattr(att, k)]
    where = f"attachments[{index}]"
    if len(given) != 1:
        raise ToolError(f"{where} needs exactly one of uri, data or path.")
    if att.uri:
        if not att.mime_type:
            raise ToolError(f"{where} with a uri needs mime_type.")
        block = {"type": content_type_for(att.mime_type), "uri": att.uri}
        block["mime_type"] = att.mime_type
        return block, 0
    if att.data:
        if not att.mime_type:
            raise ToolError(f"{where} with data needs mime_type.")
        try:
            raw = base64.b64decode(att.data, validate=True)
        except (binascii.Error, ValueError):
            raise ToolError(f"{where}.data is not valid base64.") from None
        if len(raw) > max_bytes:
            raise _too_big(where, len(raw), max_bytes)
        block = {"type": content_type_for(att.mime_type), "data": att.data}
        block["mime_type"] = att.mime_type
        return block, len(raw)
    assert att.path is not None
    path = _allowed_path(att.path, where, allowed_dirs=allowed_dirs, local_files=local_files)
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_big(where, size, max_bytes)
    mime = att.mime_type or mimetypes.guess_type(path.name)[0]
    if not mime:
        raise ToolError(f"{where}: cannot tell the type of {path.name}; give mime_type.")
    try:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError as exc:
        raise ToolError(f"{where}: cannot read {path.name}: {exc.strerror or exc}.") from None
    return {"type": content_type_for(mime), "data": data, "mime_type": mime}, size


def _allowed_path(raw: str, where: str, *, allowed_dirs: Sequence[Path], local_files: bool) -> Path:
    if not local_files:
        raise ToolError(
            f"{where}: local file paths work only over stdio; send the file as data or uri."
        )
    if not allowed_dirs:
        raise ToolError(
            f"{where}: local files are disabled; the operator must allow a directory "
            "(GEMINI_MCP_ATTACHMENT_DIRS), or send the file as data or uri."
        )
    roots = [d.expanduser().resolve() for d in allowed_dirs]
    allowed = ", ".join(str(r) for r in roots)
    # Where the path leads (symlinks followed) is checked before whether it exists, so the
    # answer outside the allowed directories is the same for files that exist and those that
    # do not.
    try:
        resolved = Path(raw).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        resolved = None
    if resolved is None or not any(resolved.is_relative_to(root) for root in roots):
        raise ToolError(f"{where}: {raw!r} is outside the allowed directories ({allowed}).")
    try:
        regular = resolved.is_file()
    except (OSError, ValueError):
        regular = False
    if not regular:
        raise ToolError(f"{where}: {raw!r} is not a file in the allowed directories.")
    return resolved


def _too_big(where: str, size: int, room: int) -> ToolError:
    """`room`: the bytes left for this attachment of the limit for all of a turn's."""
    return ToolError(
        f"{where} is {size:,} bytes, more than the {max(room, 0):,} bytes left of the limit for "
        "a turn's attachments; upload it somewhere and pass a uri instead."
    )


def function_result_steps(
    results: Sequence[FunctionResult], pending: dict[str, str]
) -> list[dict[str, Any]]:
    """function_result steps answering the pending calls (call id → function name)."""
    if not pending:
        raise ToolError("This conversation is not waiting for function results; send a prompt.")
    steps = []
    for res in results:
        if res.call_id not in pending:
            known = ", ".join(sorted(pending))
            raise ToolError(f"Unknown call_id {res.call_id!r}; the pending calls are: {known}.")
        step: dict[str, Any] = {
            "type": "function_result",
            "call_id": res.call_id,
            "name": pending[res.call_id],
            "result": res.result
            if isinstance(res.result, (str, dict, list))
            else {"value": res.result},
        }
        if res.is_error:
            step["is_error"] = True
        steps.append(step)
    missing = sorted(set(pending) - {r.call_id for r in results})
    if missing:
        raise ToolError(f"Answer every pending call; missing call_id: {', '.join(missing)}.")
    return steps
