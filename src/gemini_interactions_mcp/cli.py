"""Command line: ``gemini-interactions-mcp [serve|emulator|demo] ...``.

The only place that reads settings and picks a transport.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from . import __version__

COMMANDS = ("serve", "emulator", "demo")
NO_KEY = (
    "No Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY), or pass --emulator to try the "
    "server on the built-in offline emulator."
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gemini-interactions-mcp",
        description="MCP server for the Gemini Interactions API.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the MCP server (the default)")
    serve.add_argument("--transport", choices=["stdio", "http"])
    serve.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8000)")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        default=None,
        help="allow HTTP on a non-loopback address",
    )
    _common(serve)

    emu = sub.add_parser("emulator", help="run the offline Interactions API emulator")
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=8765)
    emu.add_argument(
        "--research-seconds",
        type=float,
        default=None,
        help="how long an emulated Deep Research run takes",
    )
    emu.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    emu.add_argument("-v", "--verbose", action="count", default=0)

    demo = sub.add_parser("demo", help="a scripted MCP session against the server")
    _common(demo)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", help="SQLite state file, or 'memory'")
    p.add_argument("--base-url", help="Interactions API base URL")
    p.add_argument(
        "--emulator",
        action="store_true",
        default=None,
        help="use the built-in emulator (no API key needed)",
    )
    p.add_argument("--config", type=Path, help="TOML settings file")
    p.add_argument("-v", "--verbose", action="count", default=None)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] not in COMMANDS and args[0] not in ("-h", "--help", "--version")):
        args.insert(0, "serve")
    ns = parser().parse_args(args)
    if ns.command == "emulator":
        _run_emulator(ns)
        return
    settings = _settings(ns)
    logging.basicConfig(
        level=logging.DEBUG if settings.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if ns.command == "demo":
        from .demo import run_demo

        run_demo(settings)
        return
    _serve(settings)


def _settings(ns: argparse.Namespace) -> Any:
    from .settings import load_settings

    flags = {
        key: value
        for key, value in vars(ns).items()
        if value is not None and key not in ("command", "config")
    }
    config = ns.config
    if config is None:
        import os

        env_config = os.environ.get("GEMINI_MCP_CONFIG")
        config = Path(env_config) if env_config else None
    try:
        return load_settings(flags, config)
    except ValueError as exc:
        _fail(f"Invalid configuration: {exc}")


def _serve(settings: Any) -> None:
    if settings.api_key is None and not settings.emulator:
        _fail(NO_KEY)
    if settings.transport == "http" and not settings.is_loopback and not settings.allow_remote:
        _fail(
            f"Refusing to serve HTTP without authentication on {settings.host}; bind to "
            "127.0.0.1, or pass --allow-remote if a proxy in front of it authenticates callers."
        )
    from .server import build_server

    server = build_server(settings)
    if settings.transport == "stdio":
        server.run("stdio")
        return
    from mcp.server.transport_security import TransportSecuritySettings

    security = None
    if settings.is_loopback or settings.allowed_hosts:
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *settings.allowed_hosts]
        origins = [f"http://{h}" for h in hosts]
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
        )
    server.run(
        "streamable-http",
        host=settings.host,
        port=settings.port,
        transport_security=security,
    )


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
