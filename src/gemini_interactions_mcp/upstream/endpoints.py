"""Where the Interactions API is served: the Gemini API, or Vertex AI (project or express).

Three URL shapes, as google-genai 3.6.1 builds them:

* Gemini API: `https://generativelanguage.googleapis.com/{version}/interactions`
  (`v1beta`), with an API key.
* Vertex AI: `https://{location}-aiplatform.googleapis.com/v1beta1/projects/{project}/
  locations/{location}/interactions`; the host is `aiplatform.googleapis.com` for the
  `global` location and `aiplatform.{location}.rep.googleapis.com` for the multi-region
  locations `us` and `eu`. Bearer access tokens (Application Default Credentials).
* Vertex AI express mode: `https://aiplatform.googleapis.com/v1beta1/interactions`, with
  an API key and no project.

A `base_url` replaces the host (and keeps any path prefix), for proxies and the emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_VERTEX_API_VERSION",
    "Endpoint",
    "Platform",
    "gemini_api",
    "vertex_ai",
    "vertex_base_url",
    "vertex_express",
]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_API_VERSION = "v1beta"
DEFAULT_VERTEX_API_VERSION = "v1beta1"
_VERTEX_GLOBAL_HOST = "https://aiplatform.googleapis.com"
_MULTI_REGIONS = frozenset({"us", "eu"})


class Platform(StrEnum):
    """Which service an endpoint belongs to (a record made on one never moves to another)."""

    GEMINI_API = "gemini_api"
    VERTEX_AI = "vertex_ai"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A base URL plus the path every resource of the API sits under.

    `parent` is `projects/{project}/locations/{location}` on Vertex AI with a project,
    empty otherwise.
    """

    base_url: str
    api_version: str
    platform: Platform = Platform.GEMINI_API
    parent: str = ""

    def __post_init__(self) -> None:
        if not self.api_version.strip("/"):
            raise ValueError("api_version must not be empty")
        if not self.base_url.strip("/"):
            raise ValueError("base_url must not be empty")

    @property
    def root(self) -> str:
        """The base URL with exactly one trailing slash (paths are joined onto it)."""
        return self.base_url.rstrip("/") + "/"

    @property
    def prefix(self) -> str:
        """The path before `/interactions`: the version, then the parent if any."""
        version = self.api_version.strip("/")
        return f"{version}/{self.parent}" if self.parent else version

    @property
    def lists_models(self) -> bool:
        """Whether `GET /{version}/models` is the Gemini API's model listing here."""
        return self.platform is Platform.GEMINI_API

    def models_path(self) -> str:
        """The path of the model listing (Gemini API only)."""
        return f"{self.api_version.strip('/')}/models"


def gemini_api(
    base_url: str = DEFAULT_BASE_URL, api_version: str = DEFAULT_API_VERSION
) -> Endpoint:
    """The Gemini API (an API key authenticates)."""
    return Endpoint(base_url, api_version)


def vertex_base_url(location: str) -> str:
    """The Vertex AI host that serves a location."""
    if location == "global":
        return _VERTEX_GLOBAL_HOST
    if location in _MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def vertex_ai(
    project: str,
    location: str = "global",
    *,
    api_version: str = DEFAULT_VERTEX_API_VERSION,
    base_url: str | None = None,
) -> Endpoint:
    """Vertex AI in a project and location (bearer tokens authenticate)."""
    if not project or not location:
        raise ValueError("Vertex AI needs a project and a location")
    parent = f"projects/{quote(project, safe='')}/locations/{quote(location, safe='')}"
    return Endpoint(base_url or vertex_base_url(location), api_version, Platform.VERTEX_AI, parent)


def vertex_express(
    *, api_version: str = DEFAULT_VERTEX_API_VERSION, base_url: str | None = None
) -> Endpoint:
    """Vertex AI express mode: the global host, no project (an API key authenticates)."""
    return Endpoint(base_url or _VERTEX_GLOBAL_HOST, api_version, Platform.VERTEX_AI)
