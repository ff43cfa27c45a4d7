"""Sign-in with an OpenID Connect provider: authorization code flow with PKCE (RFC 7636).

1. ``start``: read the provider's discovery document, make ``state``, ``nonce``
   and a PKCE verifier, keep them in a short-lived signed cookie (no server
   session), redirect to the authorization endpoint.
2. ``finish``: check ``state``, exchange the code at the token endpoint
   (client secret in HTTP Basic, the PKCE verifier), verify the ID token's
   signature against the provider's JWKS and its ``iss``, ``aud``, ``exp`` and
   ``nonce`` (joserfc), then read who the user is: username, tenant and role
   from the configured claims (or the configured defaults).

A user whose tenant or role cannot be established is not signed in.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlencode

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.review.config import ROLES, OidcConfig

FLOW_COOKIE = "casetrail_review_oidc"
FLOW_SECONDS = 600
DISCOVERY_SECONDS = 3600


@dataclass(frozen=True)
class OidcIdentity:
    username: str
    tenant: str
    role: str
    locale: str = "en"


def pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class OidcLogin:
    def __init__(self, config: OidcConfig, *, http: Optional[httpx.AsyncClient] = None):
        self.config = config
        self._http = http
        self._signer = URLSafeTimedSerializer(config.client_secret.get_secret_value() or config.client_id,
                                              salt="casetrail-review-oidc")
        self._discovery: Optional[dict] = None
        self._discovered_at = 0.0

    def _client(self) -> httpx.AsyncClient:
        return self._http or httpx.AsyncClient(timeout=10)

    async def discovery(self) -> dict:
        if self._discovery is None or time.monotonic() - self._discovered_at > DISCOVERY_SECONDS:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            async with self._client() as client:
                response = await client.get(url)
                response.raise_for_status()
            document = response.json()
            if document.get("issuer", "").rstrip("/") != self.config.issuer.rstrip("/"):
                raise ValueError("the discovery document names another issuer")
            self._discovery, self._discovered_at = document, time.monotonic()
        return self._discovery

    async def start(self, request: Request, *, secure: bool) -> Response:  # noqa: ARG002 - symmetric with finish
        document = await self.discovery()
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        query = urlencode({"response_type": "code", "client_id": self.config.client_id,
                           "redirect_uri": self.config.redirect_url, "scope": self.config.scope, "state": state,
                           "nonce": nonce, "code_challenge": pkce_challenge(verifier),
                           "code_challenge_method": "S256"})
        response = RedirectResponse(f"{document['authorization_endpoint']}?{query}", status_code=302)
        # Lax: the provider's redirect back is a top-level GET from another site.
        response.set_cookie(FLOW_COOKIE, self._signer.dumps({"s": state, "n": nonce, "v": verifier}),
                            max_age=FLOW_SECONDS, httponly=True, samesite="lax", secure=secure, path="/auth")
        return response

    def clear(self, response: Response) -> None:
        response.delete_cookie(FLOW_COOKIE, path="/auth")

    async def finish(self, request: Request) -> Optional[OidcIdentity]:
        try:
            flow = self._signer.loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_SECONDS)
        except BadSignature:
            return None
        code, state = request.query_params.get("code"), request.query_params.get("state", "")
        if not code or not secrets.compare_digest(state.encode(), flow["s"].encode()):
            return None
        document = await self.discovery()
        async with self._client() as client:
            token = await client.post(document["token_endpoint"], data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": self.config.redirect_url,
                "code_verifier": flow["v"]}, auth=(self.config.client_id, self.config.client_secret.get_secret_value()))
            if token.status_code != 200:
                return None
            jwks = await client.get(document["jwks_uri"])
            jwks.raise_for_status()
        id_token = token.json().get("id_token")
        if not id_token:
            return None
        claims = self._verified_claims(id_token, jwks.json(), flow["n"])
        return self._identity(claims) if claims is not None else None

    def _verified_claims(self, id_token: str, jwks: dict, nonce: str) -> Optional[dict]:
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        try:
            token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256", "ES256", "PS256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                exp={"essential": True}, nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError):
            return None
        return token.claims

    def _identity(self, claims: dict) -> Optional[OidcIdentity]:
        config = self.config
        username = claims.get(config.username_claim) or claims.get("sub")
        tenant = claims.get(config.tenant_claim) or config.default_tenant
        role = claims.get(config.role_claim) or config.default_role
        if not username or not tenant or role not in ROLES:
            return None
        return OidcIdentity(username=str(username), tenant=str(tenant), role=str(role),
                            locale=str(claims.get("locale") or "en")[:2])
