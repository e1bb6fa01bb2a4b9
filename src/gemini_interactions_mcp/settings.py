"""Settings: one object, read once by the CLI and passed down.

Precedence: command-line flag > environment (``GEMINI_MCP_*``, ``GEMINI_API_KEY`` /
``GOOGLE_API_KEY``) > TOML config file (``--config`` or ``GEMINI_MCP_CONFIG``) > default.
``config/server.example.toml`` documents every key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

DEFAULT_CALL_BUDGET = 50.0
DEFAULT_MAX_TEXT_CHARS = 20_000
DEFAULT_RETENTION_DAYS = 55.0
DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
DEFAULT_HTTP_PORT = 8000
DEFAULT_PROGRESS_INTERVAL = 5.0
DEFAULT_DRAIN_SECONDS = 10.0
# Limits per caller that no single person at a client reaches, yet stop a runaway agent.
DEFAULT_CALLS_PER_MINUTE = 120
DEFAULT_MAX_RUNNING_RESEARCH = 5
_ENV_PREFIX = "GEMINI_MCP_"
USE_VERTEX_ENV = "GOOGLE_GENAI_USE_VERTEXAI"
MIN_SECRET_CHARS = 32
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Settings(BaseModel):
    """Everything the server can be configured with (`load_settings` reads it from the flags,
    the environment and the config file; constructed directly, it takes only what it is given)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)

    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        description="Gemini API key (GEMINI_API_KEY or GOOGLE_API_KEY).",
    )
    backend: Literal["gemini", "vertex"] = Field(
        default="gemini",
        description="gemini: the Gemini API with an API key; vertex: Vertex AI (Google "
        "credentials, or express mode with an API key and no project).",
    )
    vertex_project: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GEMINI_MCP_VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"),
        description="Vertex AI project (default: the one the credentials name).",
    )
    vertex_location: str = Field(
        default="global",
        validation_alias=AliasChoices("GEMINI_MCP_VERTEX_LOCATION", "GOOGLE_CLOUD_LOCATION"),
        description="Vertex AI location.",
    )
    base_url: str | None = Field(
        default=None, description="Interactions API base URL (default: the backend's own)."
    )
    api_version: str | None = Field(
        default=None, description="API version segment (default: v1beta, or v1beta1 on Vertex)."
    )
    emulator: bool = Field(default=False, description="Serve against the built-in emulator.")
    state: str = Field(
        default="",
        description="State store: a SQLite file path, 'memory', a redis:// URL, or '' (default).",
    )
    transport: Literal["stdio", "http"] = Field(
        default="stdio",
        description="Transport: stdio (what desktop clients spawn) or http (streamable HTTP).",
    )
    host: str = Field(default="127.0.0.1", description="HTTP bind address.")
    port: int = Field(default=DEFAULT_HTTP_PORT, ge=0, le=65535, description="HTTP port.")
    allow_remote: bool = Field(
        default=False,
        description="Serve HTTP beyond loopback without authentication (a proxy in front "
        "authenticates callers).",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names clients reach the HTTP server by (needed beyond loopback; any "
        "port, http or https origins; '*' leaves Host checks to a proxy): a JSON list, or "
        "names separated by commas.",
    )
    drain_seconds: float = Field(
        default=DEFAULT_DRAIN_SECONDS,
        ge=0,
        description="On SIGTERM over HTTP, seconds tool calls in flight have to finish before "
        "they return in_progress (collectable elsewhere).",
    )
    call_budget: float = Field(
        default=DEFAULT_CALL_BUDGET,
        gt=0,
        description="Seconds a tool call may block before it returns status in_progress.",
    )
    progress_interval: float = Field(
        default=DEFAULT_PROGRESS_INTERVAL,
        gt=0,
        description="Seconds between progress notifications while Gemini is silent.",
    )
    max_text_chars: int = Field(
        default=DEFAULT_MAX_TEXT_CHARS, ge=1000, description="Answers longer than this are paged."
    )
    retention_days: float = Field(
        default=DEFAULT_RETENTION_DAYS,
        gt=0,
        description="Conversations older than this many days are expired.",
    )
    attachment_dirs: list[Path] = Field(
        default_factory=list,
        description="Directories local file attachments may come from (none by default): a "
        f"JSON list, or paths separated by {os.pathsep!r}.",
    )
    max_attachment_bytes: int = Field(
        default=DEFAULT_MAX_ATTACHMENT_BYTES, ge=1, description="Size limit of one attachment."
    )
    models_file: Path | None = Field(
        default=None, description="A models.toml that extends or overrides the bundled one."
    )
    default_model: str | None = Field(default=None, description="Model used when none is given.")
    reports_dir: Path | None = Field(
        default=None,
        description="Directory where each finished research report is also written as markdown.",
    )
    budget_daily_usd: float | None = Field(
        default=None, gt=0, description="Estimated spend limit per caller per UTC day (USD)."
    )
    budget_monthly_usd: float | None = Field(
        default=None, gt=0, description="Estimated spend limit per caller per UTC month (USD)."
    )
    server_budget_monthly_usd: float | None = Field(
        default=None,
        gt=0,
        description="Estimated spend limit of the whole server per UTC month (USD).",
    )
    calls_per_minute: int = Field(
        default=DEFAULT_CALLS_PER_MINUTE,
        ge=0,
        description="Tool calls each caller may make per minute, in this process (0: no limit).",
    )
    max_running_research: int = Field(
        default=DEFAULT_MAX_RUNNING_RESEARCH,
        ge=0,
        description="Deep Research each caller may have running at once (0: no limit).",
    )
    verbose: int = Field(default=0, ge=0, description="Debug logging on stderr when above 0.")
    auth_tokens_file: Path | None = Field(
        default=None,
        description='TOML file of bearer tokens ([tokens] NAME = "sha256:...") HTTP callers '
        "must present.",
    )
    oauth_issuer: str | None = Field(
        default=None,
        description="OAuth 2.1 authorization server (issuer URL) whose access tokens HTTP "
        "callers present.",
    )
    public_url: str | None = Field(
        default=None,
        description="This server's MCP URL as clients reach it: the audience OAuth tokens "
        "must name.",
    )
    required_scopes: list[str] = Field(
        default_factory=list,
        description="Scopes every OAuth access token must carry: a JSON list, or names "
        "separated by commas.",
    )
    oauth_introspection_url: str | None = Field(
        default=None,
        description="RFC 7662 introspection endpoint, for OAuth access tokens that are not JWTs.",
    )
    oauth_client_id: str | None = Field(
        default=None, description="Client id this server introspects tokens with."
    )
    oauth_client_secret: SecretStr | None = Field(
        default=None, description="Client secret this server introspects tokens with."
    )
    request_state_key: SecretStr | None = Field(
        default=None,
        description="Secret (32+ characters) sealing a question's state so the answer may "
        "reach any replica (default: one per process).",
    )

    @field_validator(
        "auth_tokens_file",
        "oauth_issuer",
        "public_url",
        "oauth_introspection_url",
        "oauth_client_id",
        "oauth_client_secret",
        "request_state_key",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("request_state_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(
                f"needs at least {MIN_SECRET_CHARS} characters of secret randomness "
                "(python -c 'import secrets; print(secrets.token_hex(32))' makes one)"
            )
        return value

    @property
    def has_auth(self) -> bool:
        """True when HTTP callers must authenticate (bearer tokens or OAuth)."""
        return self.auth_tokens_file is not None or self.oauth_issuer is not None

    @field_validator("allowed_hosts", "required_scopes", mode="before")
    @classmethod
    def _hosts_from_text(cls, value: Any) -> Any:
        return _list_from_text(value, ",")

    @field_validator("attachment_dirs", mode="before")
    @classmethod
    def _dirs_from_text(cls, value: Any) -> Any:
        return _list_from_text(value, os.pathsep)

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS


def _list_from_text(value: Any, separator: str) -> Any:
    """A list given as text (an environment variable): JSON, or items with `separator`."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        import json

        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(
                f"is not a valid JSON list; or give items separated by {separator!r}"
            ) from None
    return [item.strip() for item in text.split(separator) if item.strip()]


def load_settings(flags: dict[str, Any], config_file: Path | None = None) -> Settings:
    """Merge flags > environment > config file > defaults into one Settings.

    Raises ValueError with one sentence per bad value, naming where it came from (the flag,
    the environment variable or the file's key) and what is expected.
    """
    file_values = _read_config_file(config_file) if config_file is not None else {}
    from_env = _read_environment()
    try:
        return _merge(flags, file_values, from_env)
    except ValidationError as exc:
        from .explain import explain

        def where(field: str) -> str:
            name = field.split(".")[0].split("[")[0]
            if name in flags:
                return "--" + name.replace("_", "-")
            if name in from_env:
                return _variable(name)
            if name in file_values:
                return f"{name} in {config_file}"
            return name

        raise ValueError(explain(exc, where)) from None


def _variable(name: str) -> str:
    """The environment variable a setting was read from."""
    environ = {key.upper() for key in os.environ}
    names = variables(name)
    return next((n for n in names if n.upper() in environ), names[-1])


def _merge(
    flags: dict[str, Any], file_values: dict[str, Any], from_env: dict[str, str]
) -> Settings:
    values = {**file_values, **from_env, **flags}
    # The Google SDKs' own switch counts as the environment: below a flag, above the file.
    if "backend" not in flags and "backend" not in from_env and _vertex_requested():
        values["backend"] = "vertex"
    return Settings(**values)


def _read_environment() -> dict[str, str]:
    """Each setting's value as text from its variable (names compared without case; where a
    setting has several, the first one set wins)."""
    environ = {key.upper(): value for key, value in os.environ.items()}
    values: dict[str, str] = {}
    for name in Settings.model_fields:
        for variable in variables(name):
            if variable.upper() in environ:
                values[name] = environ[variable.upper()]
                break
    return values


def variables(name: str) -> list[str]:
    """The environment variables setting `name` is read from: its aliases where it has them
    (``GEMINI_API_KEY`` / ``GOOGLE_API_KEY``), else ``GEMINI_MCP_NAME``."""
    aliases = getattr(Settings.model_fields[name].validation_alias, "choices", None) or ()
    return [a for a in aliases if isinstance(a, str)] or [_ENV_PREFIX + name.upper()]


def _vertex_requested() -> bool:
    """The Google SDKs' switch to Vertex AI, honoured here too."""
    return os.environ.get(USE_VERTEX_ENV, "").strip().lower() in ("1", "true", "yes")


def _read_config_file(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path} is not valid TOML: {exc}") from None
    known = set(Settings.model_fields)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"config file {path} has unknown keys: {', '.join(unknown)} "
            f"(see config/server.example.toml)"
        )
    return data
