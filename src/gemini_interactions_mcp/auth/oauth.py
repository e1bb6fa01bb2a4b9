"""OAuth 2.1 access tokens, checked the way the MCP authorization spec asks of a resource server.

A JWT access token is verified here, with PyJWT, against the issuer's published keys: the
signature (with the algorithm of the key that made it; never ``none``, never a shared
secret), ``iss``, the audience (this server's public URL, RFC 8707), and ``exp``, ``nbf`` and
``iat`` with a small leeway. The keys come from the ``jwks_uri`` that discovery finds; they
are fetched again when a token names a key not seen yet (at most once per
`JWKS_MIN_REFRESH`) and when they are older than `JWKS_MAX_AGE`. A token that is not a JWT
goes to RFC 7662 introspection when an endpoint is configured.

Why a token was refused is logged (never the token) and never told to the caller: every
refusal is the same HTTP 401.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import anyio
import httpx2
import jwt
from mcp.server.auth.provider import AccessToken

from .discovery import FETCH_TIMEOUT, FetchError, fetch_json, is_secure, metadata_urls

__all__ = ["OAuthConfig", "OAuthVerifier"]

logger = logging.getLogger(__name__)

# Clocks of issuers and servers drift apart by seconds, not minutes.
LEEWAY = 30.0
JWKS_MIN_REFRESH = 10.0
JWKS_MAX_AGE = 3600.0
INTROSPECTION_CACHE_SECONDS = 30.0
INTROSPECTION_CACHE_SIZE = 1024
_REQUIRED_JWT_CLAIMS = ["exp", "iss", "aud", "sub"]


class Refused(Exception):
    """Why a token is not accepted (for the log)."""


@dataclass(frozen=True)
class OAuthConfig:
    """Whose tokens are accepted, for which resource, and how opaque ones are checked."""

    issuer: str
    resource: str
    introspection_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def audiences(self) -> list[str]:
        """The resource as a token may name it: with or without a trailing slash."""
        bare = self.resource.rstrip("/")
        return [bare, bare + "/"]


class OAuthVerifier:
    """A `TokenVerifier` for the access tokens of one OAuth issuer."""

    def __init__(
        self,
        config: OAuthConfig,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._transport = transport
        self._clock = clock
        self._http: httpx2.AsyncClient | None = None
        self._lock = anyio.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str | None, list[jwt.PyJWK]] = {}
        self._keys_fetched_at: float | None = None
        self._keys_tried_at: float | None = None
        self._introspected: dict[bytes, tuple[float, dict[str, Any]]] = {}

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            if token.count(".") == 2:
                claims = await self._jwt_claims(token)
            elif self.config.introspection_url is not None:
                claims = await self._introspect(token)
            else:
                raise Refused("it is not a JWT and no introspection endpoint is configured")
        except Refused as exc:
            logger.info("Bearer token refused: %s.", exc)
            return None
        return self._access_token(token, claims)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- JWT ----------------------------------------------------------------------------------

    async def _jwt_claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Refused("it is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm.lower() == "none":
            raise Refused("it is not signed")
        kid = header.get("kid")
        key = await self._key_for(kid if isinstance(kid, str) else None)
        if algorithm != key.algorithm_name:
            raise Refused(f"it is signed with {algorithm}, but its key is for {key.algorithm_name}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[key.algorithm_name],
                audience=self.config.audiences,
                issuer=self.config.issuer,
                leeway=LEEWAY,
                options={"require": _REQUIRED_JWT_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Refused("it has expired") from None
        except jwt.InvalidAudienceError:
            raise Refused(f"it was not issued for {self.config.resource}") from None
        except jwt.InvalidIssuerError:
            raise Refused(f"it was not issued by {self.config.issuer}") from None
        except jwt.InvalidSignatureError:
            raise Refused("its signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise Refused(f"it is not valid ({exc})") from None
        return claims

    async def _key_for(self, kid: str | None) -> jwt.PyJWK:
        async with self._lock:
            fetched = self._keys_fetched_at
            if fetched is None or self._clock() - fetched > JWKS_MAX_AGE:
                await self._refresh_keys()
            key = self._lookup(kid)
            if key is None and self._may_refresh():
                # A key not seen yet: the issuer may have rotated since the last fetch.
                await self._refresh_keys()
                key = self._lookup(kid)
        if key is None:
            raise Refused(f"it names a key ({kid!r}) the issuer does not publish")
        return key

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is not None:
            keys = self._keys.get(kid, [])
        else:
            # No kid: only unambiguous when the issuer publishes a single key.
            keys = [key for named in self._keys.values() for key in named]
        return keys[0] if len(keys) == 1 else None

    def _may_refresh(self) -> bool:
        tried = self._keys_tried_at
        return tried is None or self._clock() - tried >= JWKS_MIN_REFRESH

    async def _refresh_keys(self) -> None:
        """Fetch the issuer's keys; on failure the keys already known stay in use."""
        if not self._may_refresh():
            return
        self._keys_tried_at = self._clock()
        try:
            jwks_uri = await self._discover()
            document = await fetch_json(self._client(), jwks_uri)
            if document is None:
                raise FetchError(f"{jwks_uri} has no keys")
            keyset = jwt.PyJWKSet.from_dict(document)
        except (FetchError, jwt.PyJWTError) as exc:
            logger.warning("The OAuth issuer's keys could not be read: %s.", exc)
            return
        keys: dict[str | None, list[jwt.PyJWK]] = {}
        for key in keyset.keys:
            # A shared secret (kty "oct") in a public key set is never a signing key of the
            # issuer's; keys published for encryption only are not either.
            if key.key_type == "oct" or key.public_key_use not in (None, "sig"):
                continue
            keys.setdefault(key.key_id, []).append(key)
        self._keys = keys
        self._keys_fetched_at = self._clock()

    async def _discover(self) -> str:
        """The issuer's ``jwks_uri``, from its metadata (read once it has been read well)."""
        if self._jwks_uri is None:
            self._jwks_uri = await self._read_metadata()
        return self._jwks_uri

    async def _read_metadata(self) -> str:
        issuer = self.config.issuer
        urls = metadata_urls(issuer)
        for url in urls:
            metadata = await fetch_json(self._client(), url)
            if metadata is None:
                continue
            if metadata.get("issuer") != issuer:
                raise FetchError(
                    f"{url} names the issuer {metadata.get('issuer')!r}, not {issuer!r} "
                    "(give --oauth-issuer exactly as the issuer names itself)"
                )
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not is_secure(jwks_uri):
                raise FetchError(f"{url} names no https jwks_uri")
            return jwks_uri
        raise FetchError(f"{issuer} publishes no metadata at {' or '.join(urls)}")

    # -- introspection (RFC 7662) -------------------------------------------------------------

    async def _introspect(self, token: str) -> dict[str, Any]:
        url = self.config.introspection_url
        assert url is not None
        cache_key = hashlib.sha256(token.encode()).digest()
        cached = self._introspected.get(cache_key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        try:
            response = await self._client().post(
                url,
                data={"token": token, "token_type_hint": "access_token"},
                headers={"accept": "application/json", "authorization": self._basic_auth()},
            )
        except httpx2.HTTPError as exc:
            logger.warning("Token introspection at %s failed: %s.", url, type(exc).__name__)
            raise Refused("it could not be introspected") from None
        if response.status_code != 200:
            logger.warning("Token introspection at %s answered %s.", url, response.status_code)
            raise Refused("it could not be introspected")
        try:
            answer = response.json()
        except ValueError:
            raise Refused("the introspection endpoint did not answer JSON") from None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise Refused("the issuer says it is not active")
        self._check_introspected(answer)
        self._remember(cache_key, answer)
        return answer

    def _check_introspected(self, answer: dict[str, Any]) -> None:
        now = time.time()
        exp, nbf = answer.get("exp"), answer.get("nbf")
        if isinstance(exp, int | float) and exp <= now - LEEWAY:
            raise Refused("it has expired")
        if isinstance(nbf, int | float) and nbf > now + LEEWAY:
            raise Refused("it is not valid yet")
        issuer = answer.get("iss")
        if issuer is not None and issuer != self.config.issuer:
            raise Refused(f"it was not issued by {self.config.issuer}")
        audience = answer.get("aud")
        named = [audience] if isinstance(audience, str) else audience
        if not isinstance(named, list) or not set(named) & set(self.config.audiences):
            raise Refused(f"it was not issued for {self.config.resource}")
        if not answer.get("sub") and not answer.get("client_id"):
            raise Refused("it names neither a subject nor a client")

    def _remember(self, cache_key: bytes, answer: dict[str, Any]) -> None:
        now = self._clock()
        lifetime = INTROSPECTION_CACHE_SECONDS
        exp = answer.get("exp")
        if isinstance(exp, int | float):
            lifetime = min(lifetime, max(0.0, exp - time.time()))
        if len(self._introspected) >= INTROSPECTION_CACHE_SIZE:
            self._introspected = {k: v for k, v in self._introspected.items() if v[0] > now}
            while len(self._introspected) >= INTROSPECTION_CACHE_SIZE:
                del self._introspected[next(iter(self._introspected))]
        self._introspected[cache_key] = (now + lifetime, answer)

    def _basic_auth(self) -> str:
        # RFC 6749 §2.3.1: each part form-encoded before the two are joined.
        client_id, secret = self.config.client_id or "", self.config.client_secret or ""
        pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    # -- shared -------------------------------------------------------------------------------

    def _client(self) -> httpx2.AsyncClient:
        if self._http is None:
            self._http = httpx2.AsyncClient(transport=self._transport, timeout=FETCH_TIMEOUT)
        return self._http

    def _access_token(self, token: str, claims: dict[str, Any]) -> AccessToken:
        subject = claims.get("sub")
        client = claims.get("client_id") or claims.get("azp") or ""
        expires = claims.get("exp")
        return AccessToken(
            token=token,
            client_id=str(client),
            scopes=_scopes(claims),
            expires_at=int(expires) if isinstance(expires, int | float) else None,
            resource=self.config.resource,
            subject=str(subject) if subject else None,
            claims={**claims, "iss": self.config.issuer},
        )


def _scopes(claims: dict[str, Any]) -> list[str]:
    """``scope`` (RFC 9068, RFC 7662: space-separated) or ``scp`` (a list, some issuers)."""
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, list):
        return [str(item) for item in scope]
    return []
