"""The audit query API (FastAPI; OpenAPI description at ``/openapi.json``, docs at ``/docs``).

Every data endpoint needs a bearer token; the token decides the tenant and the
role, never a query parameter:

* ``auditor`` — everything of their tenant, including the decrypted original
  text of a conversation while the customer's key exists;
* ``qa`` — redacted text only: sealed originals, key ids and customer ids are
  removed from what it receives.

A conversation of another tenant answers 404, exactly like one that does not
exist, so a token cannot even learn which conversation ids exist elsewhere.
``/healthz`` and ``/metrics`` are open (they carry no records).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import time
from typing import Any, Callable, Iterator, Literal, Optional

import orjson
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from services.audit import metrics
from services.audit.config import AuditConfig, TokenEntry
from services.audit.store import AuditStore

_bearer = HTTPBearer(auto_error=False, description="Audit API token (role auditor or qa)")


class Principal(BaseModel):
    name: str
    tenant: str
    role: Literal["auditor", "qa"]


class Filters(BaseModel):
    since: Optional[dt.datetime] = None
    until: Optional[dt.datetime] = None
    locale: Optional[str] = None
    intent: Optional[str] = None
    category: Optional[str] = None
    mode: Optional[str] = None
    action: Optional[str] = None
    verdict: Optional[str] = None
    rule: Optional[str] = None
    queue: Optional[str] = None
    model: Optional[str] = None
    kb_version: Optional[str] = None
    prompt_version: Optional[str] = None
    policy_version: Optional[str] = None
    channel: Optional[str] = None


def _filters(
    since: Optional[dt.datetime] = Query(None, description="conversations started at or after (ISO-8601)"),
    until: Optional[dt.datetime] = Query(None, description="conversations started before (ISO-8601)"),
    locale: Optional[str] = None,
    intent: Optional[str] = None,
    category: Optional[str] = None,
    mode: Optional[str] = Query(None, description="shadow | assist | autonomous"),
    action: Optional[str] = Query(None, description="send | review | escalate | shadow | acknowledge | drop"),
    verdict: Optional[str] = Query(None, description="passed | failed | needs_human"),
    rule: Optional[str] = Query(None, description="routing rule name"),
    queue: Optional[str] = None,
    model: Optional[str] = Query(None, description="triage or drafting model version"),
    kb_version: Optional[str] = None,
    prompt_version: Optional[str] = None,
    policy_version: Optional[str] = None,
    channel: Optional[str] = None,
) -> Filters:
    return Filters(**{k: v for k, v in locals().items()})


def create_app(store: AuditStore, config: AuditConfig, keystore: Any = None,
               citation_check_factory: Optional[Callable[[Optional[str]], Callable]] = None) -> FastAPI:
    """The API over ``store``; ``keystore`` (casetrail.privacy KeyStore) opens originals for auditors."""
    app = FastAPI(
        title="casetrail audit API",
        version="1",
        description="Decision lineage, search, QA export and compliance reports. Bearer token required.",
    )

    def principal(credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer)) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
        entry: Optional[TokenEntry] = config.token(credentials.credentials)
        if entry is None:
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return Principal(name=entry.name, tenant=entry.tenant, role=entry.role)

    @app.middleware("http")
    async def count_requests(request: Request, call_next):
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.API_REQUESTS.labels(getattr(route, "path", "unmatched"), str(response.status_code)).inc()
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        # ``app.state.ready`` is set by the audit service (consumer alive and assigned);
        # an API served without a consumer (``audit serve``) is ready once it answers.
        check = getattr(app.state, "ready", None)
        ready = check() if check is not None else True
        return Response(
            '{"ready": %s}' % ("true" if ready else "false"), status_code=200 if ready else 503,
            media_type="application/json",
        )

    @app.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/whoami", summary="The tenant and role of the presented token")
    def whoami(who: Principal = Depends(principal)) -> Principal:
        return who

    @app.get("/v1/conversations/{conversation_id}/lineage", summary="The decision lineage of one conversation")
    def get_lineage(conversation_id: str, who: Principal = Depends(principal)) -> JSONResponse:
        started = time.perf_counter()
        lineage = store.lineage(conversation_id, tenant=who.tenant)
        if lineage is None:
            raise HTTPException(404, "no such conversation")
        view = present(lineage, who.role, keystore)
        metrics.LINEAGE_SECONDS.observe(time.perf_counter() - started)
        return JSONResponse(view)

    @app.get("/v1/conversations", summary="Search conversations of the token's tenant")
    def search(filters: Filters = Depends(_filters), limit: int = Query(100, ge=1, le=1000),
               offset: int = Query(0, ge=0), who: Principal = Depends(principal)) -> JSONResponse:
        rows = store.search(who.tenant, limit=limit, offset=offset, **filters.model_dump())
        return JSONResponse({"items": [present_row(row, who.role) for row in rows], "limit": limit, "offset": offset})

    @app.get("/v1/export.jsonl", summary="JSONL export of lineages for QA sampling",
             response_class=StreamingResponse, responses={200: {"content": {"application/x-ndjson": {}}}})
    def export(filters: Filters = Depends(_filters),
               sample: float = Query(1.0, gt=0.0, le=1.0, description="share of matching conversations to export"),
               seed: int = Query(0, description="sampling seed: the same seed gives the same sample"),
               limit: int = Query(10_000, ge=1, le=100_000), who: Principal = Depends(principal)) -> StreamingResponse:
        def lines() -> Iterator[bytes]:
            rng = random.Random(seed)
            sent = offset = 0
            while sent < limit:
                rows = store.search(who.tenant, limit=500, offset=offset, **filters.model_dump())
                if not rows:
                    return
                offset += len(rows)
                for row in rows:
                    if rng.random() >= sample or sent >= limit:
                        continue
                    lineage = store.lineage(row["conversation_id"], tenant=who.tenant)
                    if lineage is not None:
                        sent += 1
                        yield orjson.dumps(present(lineage, who.role, keystore)) + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.get("/v1/reports/{period}", summary="Compliance report of the token's tenant for a period",
             responses={200: {"content": {"application/json": {}, "text/markdown": {}}}})
    def report(period: str, format: Literal["json", "markdown"] = "json",
               who: Principal = Depends(principal)) -> Response:
        from services.audit.reports import build_report, parse_period, render_markdown

        try:
            since, until, label = parse_period(period)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        check = citation_check_factory(who.tenant) if citation_check_factory else (lambda *_: None)
        result = build_report(store.summaries(who.tenant, _iso(since), _iso(until)), since=since, until=until,
                              period=label, tenant=who.tenant, citation_check=check)
        if format == "markdown":
            return PlainTextResponse(render_markdown(result), media_type="text/markdown")
        return JSONResponse(result)

    return app


def _iso(value: dt.datetime) -> str:
    from services.audit.records import iso_utc

    return iso_utc(value)


def present_row(row: dict, role: str) -> dict:
    out = dict(row)
    if role != "auditor":
        out["customer_id"] = None
        out["key_id"] = None
    return out


def present(lineage: dict, role: str, keystore: Any = None) -> dict:
    """What a role may see of a lineage: QA never gets sealed originals or customer ids."""
    out = dict(lineage)
    steps = []
    for step in lineage["steps"]:
        record = step["record"]
        conv = record.get("conversation")
        if conv is not None:
            conv = dict(conv)
            sealed = conv.pop("original", None)
            if role == "auditor":
                conv["original"] = sealed
                conv["original_text"] = open_original(sealed, keystore)
            else:
                conv["customer"] = {**(conv.get("customer") or {}), "customer_id": None}
            record = {**record, "conversation": conv}
        if role != "auditor":
            if record.get("conversation_ref"):
                record = {**record, "conversation_ref": {**record["conversation_ref"], "customer_id": None, "key_id": None}}
            if record.get("stage") == "erased":
                record = {**record, "customer_id": None, "key_id": None}
        steps.append({**step, "record": record})
    out["steps"] = steps
    if role != "auditor":
        out["customer_id"] = None
        out["key_id"] = None
        if out["summary"].get("erased"):
            out["summary"] = {**out["summary"], "erased": {**out["summary"]["erased"], "key_id": None}}
    return out


def open_original(sealed: Optional[dict], keystore: Any) -> dict:
    """Decrypt a sealed original for an auditor: text, or why it cannot be read."""
    if not sealed:
        return {"status": "not_kept"}
    if keystore is None:
        return {"status": "unavailable", "detail": "no key store configured for this API"}
    from casetrail.events.conversation import EncryptedText
    from casetrail.privacy.keystore import KeyErased, KeyStoreError

    try:
        text = keystore.open(EncryptedText(
            key_id=sealed["key_id"], algorithm=sealed.get("algorithm", "AES-256-GCM"),
            nonce=base64.b64decode(sealed["nonce"]), ciphertext=base64.b64decode(sealed["ciphertext"]),
        ))
    except KeyErased as exc:
        return {"status": "erased", "erased_at": exc.erased_at}
    except (KeyStoreError, KeyError, ValueError) as exc:
        return {"status": "unreadable", "detail": type(exc).__name__}
    except Exception as exc:  # e.g. cryptography's InvalidTag for a tampered ciphertext
        return {"status": "unreadable", "detail": type(exc).__name__}
    return {"status": "ok", "text": text}
