"""The command line in-process: argument handling and the errors it gives before serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemini_interactions_mcp import cli


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_MCP_CONFIG"):
        monkeypatch.delenv(key, raising=False)


def test_no_key_and_no_emulator_is_one_clear_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    err = capsys.readouterr()
    assert err.out == ""
    assert err.err.strip() == cli.NO_KEY


def test_public_http_without_the_flag_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    with pytest.raises(SystemExit):
        cli.main(["--transport", "http", "--host", "0.0.0.0"])
    assert "--allow-remote" in capsys.readouterr().err


def test_a_bad_config_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 'eighty'\n")
    with pytest.raises(SystemExit):
        cli.main(["--config", str(bad)])
    assert "Invalid configuration" in capsys.readouterr().err


def test_config_file_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("nonsense = 1\n")
    monkeypatch.setenv("GEMINI_MCP_CONFIG", str(bad))
    with pytest.raises(SystemExit):
        cli.main(["serve"])
    assert "unknown keys: nonsense" in capsys.readouterr().err


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert "gemini-interactions-mcp" in capsys.readouterr().out


def test_help_without_a_command_is_the_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    top = capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["serve", "-h"])
    assert capsys.readouterr().out == top
    assert "--transport" in top and "GEMINI_MCP_CALL_BUDGET" in top


def test_the_environment_help_names_list_settings_as_json() -> None:
    text = " ".join(cli.environment_help().split())
    assert "GEMINI_MCP_ALLOWED_HOSTS Host names clients reach the HTTP server by" in text
    assert "as a JSON list" in text
    assert "GEMINI_API_KEY / GOOGLE_API_KEY" in text


def test_emulator_and_demo_have_their_own_options() -> None:
    emulator = cli.emulator_parser().parse_args([])
    assert (emulator.host, emulator.port, emulator.research_seconds) == ("127.0.0.1", 8765, None)
    demo = cli.demo_parser().parse_args(["--emulator", "--state", "memory"])
    assert demo.emulator is True and demo.state == "memory"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/mcp"),
        ("localhost", "http://localhost:8000/mcp"),
        ("::1", "http://[::1]:8000/mcp"),
    ],
)
def test_the_http_url_is_one_a_client_can_use(host: str, url: str) -> None:
    assert cli.http_url(host, 8000) == url


def test_allowed_host_may_be_given_several_times() -> None:
    args = ["--allowed-host", "mcp.example.com", "--allowed-host", "*"]
    settings = cli._settings(cli.serve_parser().parse_args(args))
    assert settings.allowed_hosts == ["mcp.example.com", "*"]
