"""Settings precedence: flag > environment > file > default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from gemini_interactions_mcp.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GEMINI_MCP_CALL_BUDGET",
        "GEMINI_MCP_PORT",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GEMINI_MCP_BACKEND",
    ):
        monkeypatch.delenv(key, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


def test_flag_beats_environment_beats_file_beats_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path, "call_budget = 10.0\nport = 9001\nmax_text_chars = 5000\n")
    monkeypatch.setenv("GEMINI_MCP_CALL_BUDGET", "20")
    monkeypatch.setenv("GEMINI_MCP_PORT", "9002")
    settings = load_settings({"port": 9003}, config)
    assert settings.port == 9003  # flag
    assert settings.call_budget == 20.0  # environment over file
    assert settings.max_text_chars == 5000  # file over default
    assert settings.retention_days == 55.0  # default


def test_api_key_from_either_variable_and_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "sekrit-google")
    settings = load_settings({})
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sekrit-google"
    assert "sekrit" not in repr(settings) and "sekrit" not in str(settings)
    monkeypatch.setenv("GEMINI_API_KEY", "sekrit-gemini")
    assert load_settings({}).api_key.get_secret_value() == "sekrit-gemini"  # type: ignore[union-attr]


def test_blank_key_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "  ")
    assert load_settings({}).api_key is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call_budget = ", "not valid TOML"),
        ("no_such_key = 1\n", "unknown keys: no_such_key"),
    ],
)
def test_bad_config_files_say_what_is_wrong(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        load_settings({}, write(tmp_path, text))


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_settings({}, tmp_path / "nope.toml")


def test_vertex_settings_come_from_the_google_sdk_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    config = write(tmp_path, 'vertex_project = "file-project"\nbackend = "gemini"\n')
    settings = load_settings({}, config)
    # The environment wins over the file, the Google SDKs' switch included.
    assert (settings.backend, settings.vertex_project, settings.vertex_location) == (
        "vertex",
        "env-project",
        "europe-west4",
    )
    assert load_settings({}).backend == "vertex"
    assert load_settings({"backend": "gemini"}).backend == "gemini"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"env": {"GEMINI_MCP_CALL_BUDGET": "soon"}}, "GEMINI_MCP_CALL_BUDGET must be a number."),
        ({"file": 'transport = "tcp"\n'}, "must be one of 'stdio' or 'http'."),
        ({"flags": {"port": 70000}}, "--port must be at most 65535."),
        (
            {"env": {"GEMINI_MCP_ATTACHMENT_DIRS": "[not json"}},
            "GEMINI_MCP_ATTACHMENT_DIRS: is not a valid JSON list",
        ),
    ],
)
def test_a_bad_value_names_where_it_came_from_and_what_is_expected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: dict[str, Any], expected: str
) -> None:
    for key, value in source.get("env", {}).items():
        monkeypatch.setenv(key, value)
    config = write(tmp_path, source["file"]) if "file" in source else None
    with pytest.raises(ValueError) as caught:
        load_settings(source.get("flags", {}), config)
    message = str(caught.value)
    assert expected in message
    if config is not None:
        assert f"transport in {config}" in message
    assert "pydantic" not in message and "validation error" not in message


def test_list_settings_take_json_or_separated_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_MCP_ATTACHMENT_DIRS", f"/data{os.pathsep}/more")
    monkeypatch.setenv("GEMINI_MCP_ALLOWED_HOSTS", '["a.example", "b.example"]')
    settings = load_settings({})
    assert settings.attachment_dirs == [Path("/data"), Path("/more")]
    assert settings.allowed_hosts == ["a.example", "b.example"]
    monkeypatch.setenv("GEMINI_MCP_ALLOWED_HOSTS", "a.example, b.example")
    assert load_settings({}).allowed_hosts == ["a.example", "b.example"]
