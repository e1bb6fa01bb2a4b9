"""Bearer tokens from a file: `token new`, the file's format, and what a token is taken to be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gemini_interactions_mcp import cli
from gemini_interactions_mcp.auth import AuthConfigError, NamedToken, principal_of
from gemini_interactions_mcp.auth.tokens import TokenFileVerifier, digest_of, load_tokens

pytestmark = pytest.mark.anyio


def token_new(name: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str, str]:
    cli.main(["token", "new", name])
    out = capsys.readouterr()
    token, line = out.out.splitlines()
    return token, line, out.err


@pytest.mark.parametrize("name", ["alice", "ci-bot_2", "alice@example.com"])
async def test_token_new_prints_a_token_and_the_line_that_lets_it_in(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token, line, guidance = token_new(name, capsys)
    assert re.fullmatch(r"gim_[A-Za-z0-9_-]{43}", token), "256 random bits, URL-safe"
    assert token not in line and digest_of(token) in line
    assert "shown only this once" in guidance and "[tokens]" in guidance
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f"[tokens]\n{line}\n")
    verifier = TokenFileVerifier(load_tokens(tokens))
    accepted = await verifier.verify_token(token)
    assert isinstance(accepted, NamedToken)
    assert principal_of(accepted) == f"token:{name}"
    assert await verifier.verify_token(token + "x") is None
    assert await verifier.verify_token("") is None


def test_every_new_token_is_different(capsys: pytest.CaptureFixture[str]) -> None:
    first, _, _ = token_new("alice", capsys)
    second, _, _ = token_new("alice", capsys)
    assert first != second


def test_token_new_refuses_a_name_the_file_cannot_hold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["token", "new", "bad name"])
    assert exited.value.code == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.count("\n") == 1 and "'bad name'" in out.err


async def test_each_listed_token_is_its_own_principal(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(
        f'[tokens]\nalice = "{digest_of("alice-token")}"\n'
        f'"bob@example.com" = "{digest_of("bob-token").upper().replace("SHA256", "sha256")}"\n'
    )
    verifier = TokenFileVerifier(load_tokens(tokens), scopes=["mcp"], resource="https://x/mcp")
    alice = await verifier.verify_token("alice-token")
    bob = await verifier.verify_token("bob-token")
    assert alice is not None and bob is not None
    assert (principal_of(alice), principal_of(bob)) == ("token:alice", "token:bob@example.com")
    assert alice.scopes == ["mcp"] and alice.resource == "https://x/mcp"


ALICE = digest_of("alice-token")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "does not exist"),
        ("[tokens\n", "is not valid TOML"),
        ("alice = 1\n", "has alice besides the [tokens] table"),
        ("", "lists no tokens"),
        ("[tokens]\n", "lists no tokens"),
        ('[tokens]\nalice = "the-token-itself"\n', "entry 'alice' must be \"sha256:\""),
        ('[tokens]\nalice = "sha256:abc"\n', "entry 'alice' must be \"sha256:\""),
        ("[tokens]\nalice = 42\n", "entry 'alice' must be"),
        ("[tokens.alice]\nx = 1\n", "entry 'alice' must be"),
        (f'[tokens]\n"bad name" = "{ALICE}"\n', "entry 'bad name' cannot be a name"),
        (f'[tokens]\nalice = "{ALICE}"\nbob = "{ALICE}"\n', "entries 'alice' and 'bob' hold"),
    ],
)
def test_a_bad_tokens_file_is_one_sentence_naming_the_file_and_the_entry(
    tmp_path: Path, text: str | None, expected: str
) -> None:
    path = tmp_path / "tokens.toml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(AuthConfigError) as refused:
        load_tokens(path)
    message = str(refused.value)
    assert message.startswith(f"The tokens file {path}")
    assert expected in message
    assert "\n" not in message and message.endswith(".")


def test_a_tokens_file_that_is_not_text_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    path.write_bytes(b"\xff\xfe[tokens]")
    with pytest.raises(AuthConfigError, match="cannot be read"):
        load_tokens(path)


def test_a_bad_tokens_file_stops_the_server_before_it_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMINI_MCP_CONFIG", raising=False)
    missing = tmp_path / "nope.toml"
    with pytest.raises(SystemExit) as exited:
        cli.main(["--emulator", "--transport", "http", "--auth-tokens", str(missing)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err
