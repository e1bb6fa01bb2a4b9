"""A local OAuth authorization server for the tests: metadata, keys, introspection, tokens.

It publishes its metadata where discovery looks (RFC 8414, or OpenID Connect only), its
public keys at ``/jwks``, answers RFC 7662 introspection for the opaque tokens it was told
about, and signs JWT access tokens with keys made here (RSA and EC).
"""

from __future__ import annotations

import base64
import functools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote_plus

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

RESOURCE = "https://mcp.example.test/mcp"
CLIENT_ID = "gemini mcp"
CLIENT_SECRET = "s3cret/with+odd=chars"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        maker = RSAAlgorithm if self.algorithm.startswith("RS") else ECAlgorithm
        jwk: dict[str, Any] = dict(maker.to_jwk(public, as_dict=True))
        jwk.update(kid=self.kid, alg=self.algorithm, use="sig")
        return jwk


@functools.cache
def rsa_key(kid: str) -> SigningKey:
    """An RS256 key (made once per kid per test process: RSA keys are slow to make)."""
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@functools.cache
def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@dataclass
class Issuer:
    """The authorization server; `base` is set once it serves, `url` is its issuer id."""

    path: str = ""
    discovery: Literal["oauth", "oidc"] = "oauth"
    keys: list[SigningKey] = field(default_factory=lambda: [rsa_key("k1")])
    extra_jwks: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""
    claimed_issuer: str | None = None
    jwks_uri: str | None = None
    jwks_body: str | None = None
    introspection_body: str | None = None
    down: bool = False
    requested: list[str] = field(default_factory=list)
    jwks_fetches: int = 0
    introspections: int = 0
    opaque: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.base + self.path

    def app(self) -> Starlette:
        if self.discovery == "oauth":
            metadata_path = f"/.well-known/oauth-authorization-server{self.path}"
        else:  # only the last place discovery looks: the path-appended OpenID Connect form
            metadata_path = f"{self.path}/.well-known/openid-configuration"
        return Starlette(
            routes=[
                Route(metadata_path, self._metadata),
                Route("/jwks", self._jwks),
                Route("/introspect", self._introspect, methods=["POST"]),
            ]
        )

    async def _metadata(self, request: Request) -> Response:
        if self.down:
            return Response("down", status_code=503)
        return JSONResponse(
            {
                "issuer": self.claimed_issuer or self.url,
                "jwks_uri": self.jwks_uri or f"{self.base}/jwks",
                "authorization_endpoint": f"{self.base}/authorize",
                "token_endpoint": f"{self.base}/token",
                "introspection_endpoint": f"{self.base}/introspect",
                "response_types_supported": ["code"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        if self.jwks_body is not None:
            return Response(self.jwks_body, media_type="application/json")
        keys = [key.public_jwk() for key in self.keys] + self.extra_jwks
        return JSONResponse({"keys": keys})

    async def _introspect(self, request: Request) -> Response:
        self.introspections += 1
        pair = f"{quote_plus(CLIENT_ID)}:{quote_plus(CLIENT_SECRET)}"
        expected = "Basic " + base64.b64encode(pair.encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if self.introspection_body is not None:
            return Response(self.introspection_body, media_type="application/json")
        form = await request.form()
        answer = self.opaque.get(str(form.get("token")), {"active": False})
        return JSONResponse(answer)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": RESOURCE,
            "sub": "alice",
            "client_id": "some-client",
            "scope": "mcp:use other",
            "iat": now,
            "exp": now + 300,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self, key: SigningKey | None = None, *, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        """A JWT access token signed by `key` (default: the newest published key)."""
        key = key or self.keys[-1]
        header = {"kid": key.kid, **(headers or {})}
        return jwt.encode(
            self.claims(**claims),
            key.private,
            algorithm=key.algorithm,
            headers={name: value for name, value in header.items() if value is not None},
        )

    def unsigned_token(self, **claims: Any) -> str:
        """A token claiming ``alg: none``, with an empty signature."""
        header = {"alg": "none", "typ": "JWT", "kid": self.keys[-1].kid}
        return f"{_b64(header)}.{_b64(self.claims(**claims))}."
