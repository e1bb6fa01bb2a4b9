"""The command line as a person meets it, through real processes: help, version, the HTTP URL."""

from __future__ import annotations

import subprocess
import sys

import httpx2
import pytest

from gemini_interactions_mcp import __version__
from gemini_interactions_mcp.cli import NO_AUTH_LINES
from gemini_interactions_mcp.settings import Settings, variables

from .messages import INITIALIZE
from .server.processes import child_env, free_port, stop, wait_for_port

pytestmark = pytest.mark.slow

SERVE_OPTIONS = (
    "--transport",
    "--host",
    "--port",
    "--allow-remote",
    "--state",
    "--base-url",
    "--backend",
    "--vertex-project",
    "--vertex-location",
    "--emulator",
    "--config",
    "--verbose",
)


def default(name: str) -> object:
    """A setting's default, from the model (not from this process's environment)."""
    return Settings.model_fields[name].default


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gemini_interactions_mcp", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def option_blocks(help_text: str) -> dict[str, str]:
    """Each option of the help's "options:" section with its (joined) help text."""
    section = help_text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    blocks: dict[str, str] = {}
    current = ""
    for line in section.splitlines():
        if line.startswith("  -"):
            current = line.split()[0].rstrip(",")
            if line.split()[0].endswith(","):  # "-v, --verbose"
                current = line.split()[1]
            blocks[current] = line
        else:
            blocks[current] += " " + line.strip()
    return {name: " ".join(text.split()) for name, text in blocks.items()}


def test_top_level_help_shows_the_serve_options_with_their_defaults() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    blocks = option_blocks(result.stdout)
    for option in SERVE_OPTIONS:
        assert option in blocks, option
        assert "(default: " in blocks[option], blocks[option]
    for option, name in [
        ("--port", "port"),
        ("--host", "host"),
        ("--transport", "transport"),
        ("--vertex-location", "vertex_location"),
    ]:
        assert f"(default: {default(name)})" in blocks[option], option
    assert "(default: false)" in blocks["--emulator"]
    assert "https://generativelanguage.googleapis.com" in blocks["--base-url"]
    assert "(default: gemini;" in blocks["--backend"]
    assert "[serve] [options]" in result.stdout
    for command in ("serve", "emulator", "demo"):
        assert f"\n  {command} " in result.stdout, command


def test_help_lists_every_environment_variable_of_the_settings() -> None:
    out = run_cli("--help").stdout
    environment = out.split("\nenvironment", 1)[1]
    for name in Settings.model_fields:
        assert f"\n  {' / '.join(variables(name))} " in environment, name
    for variable in (
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GEMINI_MCP_CONFIG",
        "GEMINI_MCP_BACKEND",
        "GEMINI_MCP_VERTEX_PROJECT / GOOGLE_CLOUD_PROJECT",
    ):
        assert variable in environment
    assert "GEMINI_MCP_PORT" in environment and f"(default: {default('port')})" in environment


def test_serve_help_is_the_top_level_help() -> None:
    assert run_cli("serve", "--help").stdout == run_cli("--help").stdout


def test_emulator_help_shows_its_own_options_and_defaults() -> None:
    result = run_cli("emulator", "--help")
    assert result.returncode == 0, result.stderr
    blocks = option_blocks(result.stdout)
    assert "(default: 8765)" in blocks["--port"]
    for option in ("--host", "--research-seconds", "--api-key", "--verbose"):
        assert "(default: " in blocks[option], option


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.stdout.strip() == f"gemini-interactions-mcp {__version__}"


def test_an_unknown_flag_is_refused_on_stderr() -> None:
    result = run_cli("--no-such-flag")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in result.stderr
    assert result.stdout == ""


def test_http_mode_names_its_url_on_stderr_and_writes_nothing_on_stdout() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gemini_interactions_mcp",
            "--transport",
            "http",
            "--port",
            str(port),
            "--emulator",
            "--state",
            "memory",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        wait_for_port(port, proc)
        # Written before serving began, so it is in the pipe by the time the port answers.
        first = proc.stderr.readline().decode().rstrip("\n")
        url = f"http://127.0.0.1:{port}/mcp"
        assert first == f"gemini-interactions-mcp: streamable HTTP on {url}"
        # Without authentication, how handles are scoped and how to give each person theirs.
        scoping = [proc.stderr.readline().decode().rstrip("\n") for _ in NO_AUTH_LINES]
        assert scoping == [f"gemini-interactions-mcp: {line}" for line in NO_AUTH_LINES]
        answer = httpx2.post(
            url,
            json=INITIALIZE,
            headers={"accept": "application/json, text/event-stream"},
            timeout=30,
        )
        assert answer.status_code == 200
    finally:
        stop(proc)
    assert proc.stdout.read() == b""
    proc.stdout.close()
    proc.stderr.close()
