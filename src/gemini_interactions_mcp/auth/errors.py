"""The one exception of the auth package: a configuration the server cannot run with."""

from __future__ import annotations

__all__ = ["AuthConfigError"]


class AuthConfigError(ValueError):
    """The authentication settings cannot be used; the message is one sentence for the operator."""
