"""The client snippets in config/ and the example settings file are real and correct."""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path

from gemini_interactions_mcp.cli import serve_parser
from gemini_interactions_mcp.settings import Settings, load_settings

CONFIG = Path(__file__).resolve().parents[1] / "config"
README = (CONFIG.parent / "README.md").read_text()


def _stdio_entry(entry: dict[str, object]) -> None:
    assert entry["command"] == "uvx"
    assert entry["args"] == ["gemini-interactions-mcp"]
    env = entry["env"]
    assert isinstance(env, dict) and "GEMINI_API_KEY" in env


def test_claude_desktop_and_cursor_snippets_start_the_server() -> None:
    for name in ("claude_desktop_config.json", "cursor_mcp.json"):
        data = json.loads((CONFIG / "clients" / name).read_text())
        _stdio_entry(data["mcpServers"]["gemini"])


def test_vscode_snippet_prompts_for_the_key() -> None:
    data = json.loads((CONFIG / "clients" / "vscode_mcp.json").read_text())
    server = data["servers"]["gemini"]
    assert server["type"] == "stdio"
    _stdio_entry(server)
    (prompt,) = data["inputs"]
    assert prompt["password"] is True
    assert server["env"]["GEMINI_API_KEY"] == "${input:" + prompt["id"] + "}"


def test_claude_code_command_registers_the_console_script() -> None:
    lines = [
        line
        for line in (CONFIG / "clients" / "claude_code.sh").read_text().splitlines()
        if line.startswith("claude ")
    ]
    (line,) = lines
    words = shlex.split(line, posix=True)
    assert words[:4] == ["claude", "mcp", "add", "gemini"]
    assert words[words.index("--") + 1 :] == ["uvx", "gemini-interactions-mcp"]
    assert line in README


def test_streamable_http_snippet_matches_the_default_endpoint() -> None:
    data = json.loads((CONFIG / "clients" / "streamable_http.json").read_text())
    server = data["mcpServers"]["gemini"]
    defaults = Settings(api_key="x")
    assert server["url"] == f"http://{defaults.host}:{defaults.port}/mcp"


def test_example_settings_file_sets_every_key_validly(tmp_path: Path) -> None:
    example = CONFIG / "server.example.toml"
    data = tomllib.loads(example.read_text())
    documented = set(data) | {"GEMINI_API_KEY", "models_file", "default_model"}
    fields = set(Settings.model_fields) - {"api_key"} | {"GEMINI_API_KEY"}
    assert fields <= documented | {"GEMINI_API_KEY"}, fields - documented
    settings = load_settings({}, example)
    assert settings.call_budget == 50.0 and settings.transport == "stdio"


def test_every_setting_is_in_the_readme_environment_table() -> None:
    for name in Settings.model_fields:
        if name == "api_key":
            continue
        assert f"GEMINI_MCP_{name.upper()}" in README, name


def test_cli_flags_are_documented() -> None:
    serve = serve_parser().parse_args(["--transport", "http", "--port", "9", "--emulator"])
    assert serve.transport == "http" and serve.port == 9 and serve.emulator is True
