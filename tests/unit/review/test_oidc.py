"""OIDC sign-in against a local provider that speaks the protocol (discovery, authorize, token, JWKS)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import uvicorn
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from casetrail.codec import AvroCodec
from services.review.config import OidcConfig, ReviewConfig
from services.review.projection import Projector
from services.review.store import ReviewStore
from services.review.web import create_app

CLIENT_ID, CLIENT_SECRET = "casetrail-review", secrets.token_urlsafe(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider_app(issuer: str, claims: dict, *, wrong_nonce: bool = False) -> FastAPI:
    """An identity provider that signs in one user without asking (the console's side is under test)."""
    key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
    codes: dict[str, dict] = {}
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return {"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize", "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks", "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": ["RS256"]}

    @app.get("/jwks")
    def jwks():
        return {"keys": [key.as_dict(private=False)]}

    @app.get("/authorize")
    def authorize(request: Request):
        q = request.query_params
        assert q["client_id"] == CLIENT_ID and q["code_challenge_method"] == "S256" and "openid" in q["scope"]
        code = secrets.token_urlsafe(16)
        codes[code] = {"nonce": q["nonce"], "challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    @app.post("/token")
    def token(request: Request, grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
              code_verifier: str = Form()):
        basic = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        grant = codes.pop(code, None)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if basic != f"{CLIENT_ID}:{CLIENT_SECRET}" or grant is None or grant["challenge"] != challenge \
                or grant["redirect_uri"] != redirect_uri or grant_type != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        body = {"iss": issuer, "aud": CLIENT_ID, "sub": "u-1", "iat": now, "exp": now + 300,
                "nonce": "not-the-nonce" if wrong_nonce else grant["nonce"], **claims}
        return {"access_token": "at", "token_type": "Bearer",
                "id_token": jwt.encode({"alg": "RS256", "kid": "k1"}, body, key)}

    return app


@pytest.fixture
def provider():
    servers = []

    def start(claims: dict, **kwargs) -> str:
        port = free_port()
        issuer = f"http://127.0.0.1:{port}"
        server = uvicorn.Server(uvicorn.Config(provider_app(issuer, claims, **kwargs), host="127.0.0.1", port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.02)
        servers.append(server)
        return issuer

    yield start
    for server in servers:
        server.should_exit = True


def console_for(issuer: str, tmp_path) -> TestClient:
    config = ReviewConfig(secure_cookies=False, oidc=OidcConfig(
        issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        redirect_url="http://console.test/auth/callback"))
    store = ReviewStore(tmp_path / "review.sqlite3")
    app = create_app(store, config, publisher=None, projector=Projector(store, AvroCodec()), policies={})
    return TestClient(app, base_url="http://console.test")


def sign_in_with_provider(client: TestClient):
    start = client.get("/auth/oidc", follow_redirects=False)
    assert start.status_code == 302
    import httpx

    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    callback = urlparse(at_provider.headers["location"])
    assert callback.path == "/auth/callback" and "state" in parse_qs(callback.query)
    return client.get(f"/auth/callback?{callback.query}", follow_redirects=False)


def test_a_provider_user_with_tenant_and_role_claims_is_signed_in(provider, tmp_path):
    issuer = provider({"email": "ana@acme.example", "casetrail_tenant": "acme-shop", "casetrail_role": "agent"})
    client = console_for(issuer, tmp_path)
    assert "Sign in with Single sign-on" in client.get("/login").text
    response = sign_in_with_provider(client)
    assert response.headers["location"] == "/queue"
    page = client.get("/queue")
    assert page.status_code == 200 and "ana@acme.example · agent · acme-shop" in page.text


def test_an_id_token_for_another_nonce_signs_no_one_in(provider, tmp_path):
    issuer = provider({"email": "eve@acme.example", "casetrail_tenant": "acme-shop", "casetrail_role": "lead"},
                      wrong_nonce=True)
    client = console_for(issuer, tmp_path)
    assert sign_in_with_provider(client).headers["location"] == "/login?failed=sso"
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_a_user_without_a_tenant_is_not_signed_in(provider, tmp_path):
    issuer = provider({"email": "x@elsewhere.example"})
    assert sign_in_with_provider(console_for(issuer, tmp_path)).headers["location"] == "/login?failed=sso"


def test_a_callback_with_a_forged_state_is_refused(provider, tmp_path):
    issuer = provider({"email": "ana@acme.example", "casetrail_tenant": "acme-shop", "casetrail_role": "agent"})
    client = console_for(issuer, tmp_path)
    client.get("/auth/oidc", follow_redirects=False)
    assert client.get("/auth/callback?code=x&state=forged", follow_redirects=False).headers["location"] == \
        "/login?failed=sso"
