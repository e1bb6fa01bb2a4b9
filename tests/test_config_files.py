"""The client snippets in config/ and the example settings file are real and correct.

Each snippet is in its client's own format, from the client's documentation:
- Claude Desktop: ``mcpServers.NAME.{command, args, env}``
  (https://modelcontextprotocol.io/docs/develop/connect-local-servers)
- Cursor: the same shape in ``~/.cursor/mcp.json`` (https://cursor.com/docs/mcp)
- VS Code ``.vscode/mcp.json``: ``servers.NAME.{type, command, args, env}`` and ``inputs`` of
  type ``promptString`` (https://code.visualstudio.com/docs/copilot/reference/mcp-configuration)
- Claude Code: ``claude mcp add [options] NAME -- COMMAND [ARGS...]`` and, for a project's
  ``.mcp.json``, ``mcpServers.NAME.{type: "http", url}`` (https://code.claude.com/docs/en/mcp)
"""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gemini_interactions_mcp.cli import serve_parser
from gemini_interactions_mcp.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
CLIENTS = CONFIG / "clients"
README = (ROOT / "README.md").read_text()
PROSE = " ".join(README.split())  # the README's words, whatever its line breaks
# The command each snippet starts: the console script the package installs.
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
(SCRIPT,) = SCRIPTS
# `claude mcp add` options, as its --help lists them (Claude Code 2.1): those that take one value,
# and the variadic ones that take every following word up to the next option.
CLAUDE_ONE_VALUE = {"-s", "--scope", "-t", "--transport", "--callback-port", "--client-id"}
CLAUDE_VARIADIC = {"-e", "--env", "-H", "--header"}
CLAUDE_FLAGS = {"--client-secret"}


def _starts_the_server(entry: dict[str, Any], *, key: bool = True) -> None:
    """`command` is the installed console script and `args` are flags it accepts."""
    assert entry["command"] == SCRIPT
    assert isinstance(entry["args"], list)
    serve_parser().parse_args(entry["args"])  # exits on an unknown flag
    if key:
        env = entry["env"]
        assert isinstance(env, dict) and "GEMINI_API_KEY" in env


@pytest.mark.parametrize("name", ["claude_desktop_config.json", "cursor_mcp.json"])
def test_claude_desktop_and_cursor_snippets_start_the_installed_command(name: str) -> None:
    data = json.loads((CLIENTS / name).read_text())
    assert set(data) == {"mcpServers"}
    _starts_the_server(data["mcpServers"]["gemini"])


def test_the_claude_desktop_snippet_in_the_readme_is_the_file() -> None:
    data = json.loads((CLIENTS / "claude_desktop_config.json").read_text())
    entry = data["mcpServers"]["gemini"]
    assert f'"command": "{entry["command"]}"' in README
    assert "[config/clients/claude_desktop_config.json]" in README


def test_vscode_snippet_prompts_for_the_key() -> None:
    data = json.loads((CLIENTS / "vscode_mcp.json").read_text())
    assert set(data) == {"inputs", "servers"}
    server = data["servers"]["gemini"]
    assert server["type"] == "stdio"
    _starts_the_server(server)
    (prompt,) = data["inputs"]
    assert prompt["type"] == "promptString"
    assert prompt["password"] is True
    assert server["env"]["GEMINI_API_KEY"] == "${input:" + prompt["id"] + "}"


def _claude_mcp_add(line: str) -> tuple[str, dict[str, list[str]], list[str]]:
    """Read a `claude mcp add` line the way its option parser does: (name, options, command)."""
    words = shlex.split(line, posix=True)
    assert words[:3] == ["claude", "mcp", "add"]
    rest = words[3:]
    options: dict[str, list[str]] = {}
    while rest and rest[0].startswith("-") and rest[0] != "--":
        option = rest.pop(0)
        values = options.setdefault(option, [])
        if option in CLAUDE_ONE_VALUE:
            values.append(rest.pop(0))
        elif option in CLAUDE_VARIADIC:
            while rest and not rest[0].startswith("-"):
                values.append(rest.pop(0))
        else:
            assert option in CLAUDE_FLAGS, f"unknown option {option}"
    assert rest, "the server name was taken as an option's value"
    name = rest.pop(0)
    assert rest[:1] == ["--"], "the command comes after --"
    return name, options, rest[1:]


def _claude_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("claude ")]


def test_claude_code_command_registers_the_installed_command_with_the_key() -> None:
    (line,) = _claude_lines(CLIENTS / "claude_code.sh")
    name, options, command = _claude_mcp_add(line)
    assert name == "gemini"
    assert options["--env"] == ["GEMINI_API_KEY=$GEMINI_API_KEY"]
    assert options["--scope"] == ["user"]
    assert command[0] == SCRIPT
    serve_parser().parse_args(command[1:])
    assert line in README


def test_claude_code_emulator_command_needs_no_key() -> None:
    (line,) = _claude_lines(CLIENTS / "claude_code_emulator.sh")
    name, options, command = _claude_mcp_add(line)
    assert name == "gemini-emulator"
    assert "--env" not in options and "-e" not in options
    assert command == [SCRIPT, "--emulator"]
    assert serve_parser().parse_args(command[1:]).emulator is True
    assert line in README


def test_a_variadic_option_right_before_the_name_would_swallow_it() -> None:
    """The reader above models the parser faithfully enough to catch the known trap."""
    with pytest.raises(AssertionError, match="the command comes after"):
        _claude_mcp_add("claude mcp add --scope user --env K=v gemini -- cmd")


def test_streamable_http_snippet_is_a_claude_code_project_file_for_the_default_endpoint() -> None:
    data = json.loads((CLIENTS / "streamable_http.json").read_text())
    assert set(data) == {"mcpServers"}
    server = data["mcpServers"]["gemini"]
    assert server["type"] == "http"
    defaults = Settings(api_key="x")
    assert server["url"] == f"http://{defaults.host}:{defaults.port}/mcp"
    assert "streamable_http.json) is a Claude Code project file: save it as `.mcp.json`" in PROSE


def test_every_client_file_is_named_in_the_readme() -> None:
    for path in CLIENTS.iterdir():
        assert f"(config/clients/{path.name})" in README, path.name


def test_the_readme_marks_the_registry_install_as_not_yet_published() -> None:
    for line in README.splitlines():
        if line.startswith(("uvx gemini-interactions-mcp", "pip install gemini-interactions-mcp")):
            assert "after publication only" in line, line


def test_example_settings_file_sets_every_key_validly(tmp_path: Path) -> None:
    example = CONFIG / "server.example.toml"
    data = tomllib.loads(example.read_text())
    documented = set(data) | {"GEMINI_API_KEY", "models_file", "default_model"}
    documented |= {"oauth_client_id", "oauth_client_secret"}  # commented out: best in the env
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
    for flag in ("--transport", "--port", "--emulator", "--state", "--base-url", "--allow-remote"):
        assert f"`{flag}`" in README, flag
