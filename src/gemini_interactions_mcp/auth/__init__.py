"""Who is calling over HTTP: bearer tokens from a file, or OAuth 2.1 access tokens.

Only streamable HTTP authenticates; a stdio caller is the local user. `http_access` turns
the settings into what MCPServer takes, and `principal_of` names the owner of the handles a
verified token's calls create and see. The OAuth half (PyJWT) loads only when configured.

Modules: `setup` (settings → verifier), `tokens` (the tokens file), `oauth` and `discovery`
(an OAuth issuer's tokens, keys and metadata), `principal`, `errors`.
"""

from .errors import AuthConfigError
from .principal import NamedToken, principal_of
from .setup import HttpAccess, http_access

__all__ = ["AuthConfigError", "HttpAccess", "NamedToken", "http_access", "principal_of"]
