"""Command line: ``gemini-interactions-mcp [serve] [options]``, ``... emulator``, ``... demo``.

The only place that reads settings and picks a transport. ``serve`` is the default command,
so its options are the top-level options, and ``--help`` lists them with their defaults and
the environment variables (read from the Settings model, so the help cannot drift from it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from pathlib import Path
from typing import Any

from . import __version__

PROG = "gemini-interactions-mcp"
COMMANDS = ("serve", "emulator", "demo", "token")
# Where the SDK serves streamable HTTP (MCPServer.run's streamable_http_path default).
HTTP_PATH = "/mcp"
NO_KEY = (
    "No Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), use Vertex AI with "
    "--backend vertex, or pass --emulator to try the server on the built-in offline emulator."
)
CONFIG_ENV = "GEMINI_MCP_CONFIG"
DEFAULT_STATE_TEXT = "state.sqlite3 in the user data directory"
_COMMANDS_HELP = """\
commands:
  serve       run the MCP server (the default; takes the options above)
  emulator    run the offline Interactions API emulator on a port (see: emulator --help)
  demo        a scripted MCP session against the server (offline without a key)
  token new NAME
              print a new bearer token for NAME and its line for the --auth-tokens file"""


def serve_parser() -> argparse.ArgumentParser:
    """The default command's parser; its help is the top-level help."""
    p = argparse.ArgumentParser(
        prog=PROG,
        usage=(
            "%(prog)s [serve] [options]\n"
            "       %(prog)s emulator [options]\n"
            "       %(prog)s demo [options]\n"
            "       %(prog)s token new NAME"
        ),
        description=(
            "MCP server for the Gemini Interactions API. Without a command it serves MCP: over\n"
            "stdio (what desktop clients spawn), or over streamable HTTP with --transport http."
        ),
        epilog=_COMMANDS_HELP + "\n\n" + environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "--transport",
        choices=["stdio", "http"],
        help=f"stdio, or http for streamable HTTP at http://HOST:PORT{HTTP_PATH} "
        f"(default: {_default('transport')})",
    )
    p.add_argument("--host", help=f"HTTP bind address (default: {_default('host')})")
    p.add_argument("--port", type=int, help=f"HTTP port (default: {_default('port')})")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        default=None,
        help="allow HTTP on a non-loopback address, for running behind a proxy that "
        f"authenticates callers (default: {_default('allow_remote')})",
    )
    p.add_argument(
        "--allowed-host",
        dest="allowed_hosts",
        action="append",
        metavar="NAME",
        help="a host name clients reach the HTTP server by (any port, http or https); needed "
        "beyond loopback; repeat for several, or '*' when a proxy checks Host (default: none)",
    )
    _auth_options(p)
    _common(p)
    return p


def _auth_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--auth-tokens",
        dest="auth_tokens_file",
        type=Path,
        metavar="FILE",
        help="HTTP callers need a bearer token listed in FILE (see: token new NAME) "
        "(default: none)",
    )
    p.add_argument(
        "--oauth-issuer",
        metavar="URL",
        help="HTTP callers need an OAuth access token from this issuer (default: none)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="this server's MCP URL as clients reach it, which OAuth tokens must name as "
        "their audience (default: none)",
    )
    p.add_argument(
        "--required-scope",
        dest="required_scopes",
        action="append",
        metavar="SCOPE",
        help="a scope every OAuth access token must carry; repeat for several (default: none)",
    )
    p.add_argument(
        "--oauth-introspection-url",
        metavar="URL",
        help="RFC 7662 endpoint for OAuth tokens that are not JWTs; the client id and secret "
        "come from the environment (default: none)",
    )


def token_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} token",
        description="Bearer tokens for --auth-tokens FILE, a TOML file whose [tokens] table "
        'maps each name to "sha256:" and the hex digest of its token.',
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="new")
    new = actions.add_parser(
        "new",
        help="print a new token (first line, shown only once) and its line for the file",
        description="Print a new token for NAME (first line, shown only this once) and the "
        "line that lists it under [tokens] in the tokens file (second line).",
    )
    new.add_argument("name", metavar="NAME", help="whom the token is for")
    return p


def demo_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{PROG} demo",
        description=(
            "A scripted MCP session against the server, printed to stdout. It runs on the "
            "built-in emulator unless GEMINI_API_KEY is set."
        ),
    )
    _common(p)
    return p


def emulator_parser() -> argparse.ArgumentParser:
    from .emulator.config import DEFAULT_RESEARCH_SECONDS

    p = argparse.ArgumentParser(
        prog=f"{PROG} emulator",
        description=(
            "Serve an offline imitation of the Interactions API, with a deterministic scripted "
            "model. Point the server at it with --base-url http://HOST:PORT."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: %(default)s)")
    p.add_argument("--port", type=int, default=8765, help="port (default: %(default)s)")
    p.add_argument(
        "--research-seconds",
        type=float,
        default=None,
        help=f"how long an emulated Deep Research run takes (default: {DEFAULT_RESEARCH_SECONDS})",
    )
    p.add_argument(
        "--api-key", default=None, help="accept only this key (default: any non-empty key)"
    )
    p.add_argument(
        "-v", "--verbose", action="count", default=0, help="debug logging (default: info)"
    )
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state",
        help=f"SQLite state file, 'memory', or a redis:// URL (default: {DEFAULT_STATE_TEXT})",
    )
    p.add_argument(
        "--reports-dir",
        type=Path,
        metavar="DIR",
        help="also write each finished research report there as markdown (default: none)",
    )
    p.add_argument(
        "--backend",
        choices=["gemini", "vertex"],
        help="gemini (the Gemini API, with an API key) or vertex (Vertex AI, with Google "
        f"credentials) (default: {_default('backend')}; $GOOGLE_GENAI_USE_VERTEXAI=true "
        "picks vertex)",
    )
    p.add_argument(
        "--vertex-project",
        metavar="PROJECT",
        help="Vertex AI project (default: $GOOGLE_CLOUD_PROJECT, else the credentials' own)",
    )
    p.add_argument(
        "--vertex-location",
        metavar="LOCATION",
        help=f"Vertex AI location (default: {_default('vertex_location')})",
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="Interactions API base URL (default: the backend's own: "
        "https://generativelanguage.googleapis.com, or Vertex AI's for the location)",
    )
    p.add_argument(
        "--emulator",
        action="store_true",
        default=None,
        help="use the built-in offline emulator; no API key needed "
        f"(default: {_default('emulator')})",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"TOML settings file (default: ${CONFIG_ENV}, else none)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=None,
        help="debug logging on stderr (default: warnings and errors only)",
    )


def _default(name: str) -> str:
    from .settings import Settings

    return _show(Settings.model_fields[name].get_default(call_default_factory=True))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def environment_help() -> str:
    """The environment variables, one per Settings field, with their defaults."""
    from .settings import Settings, variables

    rows: list[tuple[str, str]] = []
    for name, field in Settings.model_fields.items():
        variable = " / ".join(variables(name))
        if name == "api_key":
            rows.append((variable, "Gemini API key (required unless --emulator)"))
            rows.append((CONFIG_ENV, "TOML settings file, as --config"))
            continue
        text = (field.description or "").rstrip(".")
        default = field.get_default(call_default_factory=True)
        if name == "state":
            text = "SQLite state file, 'memory', or a redis:// URL"
            default = DEFAULT_STATE_TEXT
        if isinstance(default, list):
            text += ", as a JSON list"
        elif default not in (None, ""):
            text += f" (default: {_show(default)})"
        rows.append((variable, text))
    width = max(len(variable) for variable, _ in rows) + 2
    lines = ["environment (a flag wins over the environment, which wins over --config):"]
    for variable, text in rows:
        wrapped = textwrap.wrap(text, width=max(40, 94 - width)) or [""]
        lines.append(f"  {variable.ljust(width)}{wrapped[0]}")
        lines.extend(" " * (width + 2) + rest for rest in wrapped[1:])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and args[0] in COMMANDS else "serve"
    if command == "emulator":
        _run_emulator(emulator_parser().parse_args(args))
        return
    if command == "token":
        _run_token(token_parser().parse_args(args))
        return
    ns = (demo_parser() if command == "demo" else serve_parser()).parse_args(args)
    settings = _settings(ns)
    logging.basicConfig(
        level=logging.DEBUG if settings.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if command == "demo":
        from .demo import run_demo

        run_demo(settings)
        return
    _serve(settings)


def _settings(ns: argparse.Namespace) -> Any:
    from .settings import load_settings

    flags = {key: value for key, value in vars(ns).items() if value is not None and key != "config"}
    config = ns.config
    if config is None:
        import os

        env_config = os.environ.get(CONFIG_ENV)
        config = Path(env_config) if env_config else None
    try:
        return load_settings(flags, config)
    except ValueError as exc:
        _fail(f"Invalid configuration: {exc}")


def http_url(host: str, port: int) -> str:
    """The URL a client uses to reach streamable HTTP served on host:port."""
    if ":" in host:  # an IPv6 address needs brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{port}{HTTP_PATH}"


def _serve(settings: Any) -> None:
    if settings.api_key is None and not settings.emulator and settings.backend == "gemini":
        _fail(NO_KEY)
    if (
        settings.transport == "http"
        and not settings.is_loopback
        and not settings.allow_remote
        and not settings.has_auth
    ):
        _fail(
            f"Refusing to serve HTTP without authentication on {settings.host}; bind to "
            "127.0.0.1, turn on authentication (--auth-tokens FILE or --oauth-issuer URL), or "
            "pass --allow-remote if a proxy in front of it authenticates callers."
        )
    if settings.transport == "http":
        from .http_policy import host_problem

        problem = host_problem(settings)
        if problem is not None:
            _fail(problem)
    from .server import build_server

    access = _http_access(settings) if settings.transport == "http" else None
    server = build_server(settings, on_fatal=_exit_now, http_access=access)
    if settings.transport == "stdio":
        server.run("stdio")
        return
    from .http_serving import serve_http

    # stderr, never stdout: one line that tells a person where to point a client.
    sys.stderr.write(f"{PROG}: streamable HTTP on {http_url(settings.host, settings.port)}\n")
    for line in access_lines(access):
        sys.stderr.write(f"{PROG}: {line}\n")
    sys.stderr.flush()
    serve_http(server, settings, HTTP_PATH)


def _http_access(settings: Any) -> Any:
    from .auth.errors import AuthConfigError
    from .auth.setup import http_access

    try:
        return http_access(settings)
    except AuthConfigError as exc:
        _fail(str(exc))


NO_AUTH_LINES = (
    "no authentication: all 2026-07-28 clients share one owner of conversations and research; "
    "a handshake-era client's handles belong to its MCP session and are lost when it reconnects.",
    "to give each person their own, turn on bearer tokens: --auth-tokens FILE "
    f"(`{PROG} token new NAME`; see docs/deployment.md).",
)


def access_lines(access: Any) -> tuple[str, ...]:
    """What to tell the operator at start-up about who may call and who owns what."""
    return NO_AUTH_LINES if access is None else (access.summary,)


def _run_token(ns: argparse.Namespace) -> None:
    from .auth.tokens import entry, name_problem, new_token

    problem = name_problem(ns.name)
    if problem is not None:
        _fail(problem)
    token = new_token()
    # The token and its line on stdout (for a script to take); the guidance on stderr.
    sys.stdout.write(f"{token}\n{entry(ns.name, token)}\n")
    sys.stdout.flush()
    sys.stderr.write(
        f"The first line is {ns.name}'s bearer token, shown only this once: hand it over "
        "privately. Add the second line under [tokens] in the tokens file (--auth-tokens) "
        "and restart the server.\n"
    )


def _exit_now(message: str) -> None:
    """The server found it cannot run as configured: say why and stop at once (nothing it
    holds needs closing: it has not served a request that needed the failed part)."""
    import os

    sys.stdout.flush()
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    os._exit(2)


def _run_emulator(ns: argparse.Namespace) -> None:
    import anyio

    from .emulator import EmulatorConfig, serve

    logging.basicConfig(
        level=logging.DEBUG if ns.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    options: dict[str, Any] = {"api_key": ns.api_key}
    if ns.research_seconds is not None:
        options["research_seconds"] = ns.research_seconds
    config = EmulatorConfig(**options)
    anyio.run(serve, config, ns.host, ns.port)


def _fail(message: str) -> Any:
    sys.stderr.write(message + "\n")
    raise SystemExit(2)
