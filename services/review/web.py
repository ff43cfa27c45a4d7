"""The console's web application: server-rendered pages (Jinja2), HTMX for the one-click actions.

Every page needs a session; the session decides the tenant and the role,
never a parameter, and a case of another tenant answers 404 exactly like one
that does not exist. Every state-changing request is checked for the
session's CSRF token. Everything an agent does (sign-in, opening a case,
revealing an original, each action) is written to the console's action log;
the actions on drafts are also ``AgentFeedback`` events on the log.

Pages work without JavaScript (forms post and redirect); with it, HTMX swaps
the action panel in place and re-fetches it while the router or the verifier
is working (once a second, for at most a minute; each answer also swaps the
case's state line and history out of band, so a refused edit shows with its
failed checks without a reload), and ``console.js`` keeps the SLA countdowns live.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from casetrail.events import ProducerInfo, RejectionReason

from services.review import metrics
from services.review.actions import ActionRequest, FeedbackPublisher, Refusal, feedback_for
from services.review.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Principal, Sessions, authenticate, csrf_ok
from services.review.cases import Case, CaseState, sealed_from_view
from services.review.config import UI_LOCALES, ReviewConfig
from services.review.i18n import Translator, pick_locale, translator as cached_translator
from services.review.pages import ClauseLookup, case_page_context, queue_page_context
from services.review.projection import Projector
from services.review.store import ReviewStore

HERE = Path(__file__).parent
LOGIN_CSRF_COOKIE = "casetrail_review_login"
SECURITY_HEADERS = {
    # No inline script or style anywhere: HTMX and the countdown come from /static.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class _SignInRequired(Exception):
    pass


def create_app(store: ReviewStore, config: ReviewConfig, *, publisher: FeedbackPublisher, projector: Projector,
               policies: dict, keystore: Any = None, producer: Optional[ProducerInfo] = None,
               clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
               clause_lookup: Optional[ClauseLookup] = None) -> FastAPI:
    app = FastAPI(title="casetrail review console", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["qs"] = query_string
    templates.env.filters["todatetime"] = dt.datetime.fromisoformat
    sessions = Sessions(config)
    producer = producer or ProducerInfo(service="review", version="0")
    oidc = None
    if config.oidc is not None:
        from services.review.oidc import OidcLogin

        oidc = OidcLogin(config.oidc)

    def timezone_of(tenant: str) -> str:
        policy = policies.get(tenant)
        return policy.business_hours.timezone if policy is not None else "UTC"

    def queues_of(tenant: str) -> list[str]:
        policy = policies.get(tenant)
        if policy is None:
            return []
        return sorted({team.name for team in policy.teams} | {policy.default_queue})

    def principal_of(request: Request) -> Principal:
        who = sessions.read(request.cookies.get(SESSION_COOKIE))
        if who is None:
            raise _SignInRequired()
        return who

    def translator(request: Request, who: Optional[Principal]) -> Translator:
        locale = pick_locale(request.query_params.get("lang"), who.locale if who else None,
                             request.headers.get("accept-language"))
        return cached_translator(locale, timezone_of(who.tenant) if who else "UTC")

    def render(request: Request, name: str, context: dict, *, who: Optional[Principal], status: int = 200,
               page: Optional[str] = None) -> HTMLResponse:
        started = time.perf_counter()
        t = translator(request, who)
        response = templates.TemplateResponse(request, name, {
            "t": t, "who": who, "csrf": who.csrf if who else "", "ui_locales": UI_LOCALES, "now": clock(),
            **context}, status_code=status)
        if page:
            metrics.PAGE_SECONDS.labels(page).observe(time.perf_counter() - started)
        return response

    async def checked_form(request: Request, who: Principal) -> dict:
        form = dict(await request.form())
        origin = request.headers.get("origin")
        if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
            raise PermissionError("cross-site request")
        if not csrf_ok(who, request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)):
            raise PermissionError("missing or wrong CSRF token")
        return form

    @app.exception_handler(_SignInRequired)
    async def sign_in_first(request: Request, exc: _SignInRequired):  # noqa: ARG001
        target = "/login?" + urlencode({"next": request.url.path}) if request.method == "GET" else "/login"
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PermissionError)
    async def forbidden(request: Request, exc: PermissionError):  # noqa: ARG001
        return Response("forbidden", status_code=403, media_type="text/plain")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if config.secure_cookies:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    # -- operations -------------------------------------------------------------
    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok", "service": "review"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        check = getattr(app.state, "ready", None)
        ready = check() if check is not None else True
        return Response('{"ready": %s}' % ("true" if ready else "false"), status_code=200 if ready else 503,
                        media_type="application/json")

    @app.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        refresh_queue_gauges(store, clock())
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # -- signing in and out -----------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/queue", failed: str = "") -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", {"login_csrf": token, "next": _safe_next(next), "failed": failed,
                                                   "oidc": config.oidc}, who=None)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=config.secure_cookies, max_age=1800, path="/login")
        return response

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = dict(await request.form())
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not expected or not secrets.compare_digest(expected.encode(), str(form.get(CSRF_FIELD, "")).encode()):
            raise PermissionError("login form without its token")
        account = authenticate(config, str(form.get("username", "")), str(form.get("password", "")))
        if account is None:
            metrics.LOGINS.labels("password", "refused").inc()
            return RedirectResponse("/login?" + urlencode({"failed": "1", "next": _safe_next(form.get("next"))}),
                                    status_code=303)
        return _signed_in(request, account.username, account.tenant, account.role, "password",
                          account.locale, _safe_next(form.get("next")))

    def _signed_in(request: Request, username: str, tenant: str, role: str, method: str, locale: str,
                   target: str) -> Response:
        cookie, who = sessions.issue(username=username, tenant=tenant, role=role, method=method,
                                     locale=pick_locale(locale))
        store.record_action(tenant=tenant, actor=username, role=role, action="sign_in", detail=method)
        metrics.LOGINS.labels(method, "ok").inc()
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie, **sessions.cookie_args())
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.get("/auth/oidc")
    async def oidc_start(request: Request) -> Response:
        if oidc is None:
            return Response(status_code=404)
        return await oidc.start(request, secure=config.secure_cookies)

    @app.get("/auth/callback")
    async def oidc_callback(request: Request) -> Response:
        if oidc is None:
            return Response(status_code=404)
        identity = await oidc.finish(request)
        if identity is None:
            metrics.LOGINS.labels("oidc", "refused").inc()
            return RedirectResponse("/login?failed=sso", status_code=303)
        response = _signed_in(request, identity.username, identity.tenant, identity.role, "oidc", identity.locale,
                              "/queue")
        oidc.clear(response)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        who = principal_of(request)
        await checked_form(request, who)
        store.record_action(tenant=who.tenant, actor=who.username, role=who.role, action="sign_out")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.post("/language")
    async def language(request: Request) -> Response:
        who = principal_of(request)
        form = await checked_form(request, who)
        response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        response.set_cookie(SESSION_COOKIE, sessions.with_locale(who, pick_locale(form.get("lang"))),
                            **sessions.cookie_args())
        return response

    # -- the queue and the case ---------------------------------------------------
    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, queue: str = "", locale: str = "", category: str = "", state: str = "",
              page: int = 1) -> HTMLResponse:
        who = principal_of(request)
        context = queue_page_context(store, who.tenant, filters={"queue": queue, "locale": locale,
                                                                 "category": category, "state": state},
                                     page=max(1, page), page_size=config.page_size, now=clock())
        name = "_queue_table.html" if request.headers.get("hx-request") else "queue.html"
        return render(request, name, context, who=who, page="queue")

    def _case_or_404(who: Principal, conversation_id: str) -> Optional[Case]:
        return store.case(who.tenant, conversation_id)

    @app.get("/cases/{conversation_id}", response_class=HTMLResponse)
    def case_page(request: Request, conversation_id: str, done: str = "") -> HTMLResponse:
        who = principal_of(request)
        case = _case_or_404(who, conversation_id)
        if case is None:
            return render(request, "not_found.html", {}, who=who, status=404)
        store.record_action(tenant=who.tenant, actor=who.username, role=who.role, action="open_case",
                            conversation_id=conversation_id)
        context = case_page_context(case, queues=queues_of(who.tenant), done=done, now=clock(), lookup=clause_lookup)
        return render(request, "case.html", context, who=who, page="case")

    @app.get("/cases/{conversation_id}/panel", response_class=HTMLResponse)
    def case_panel(request: Request, conversation_id: str, done: str = "", polls: int = 0) -> HTMLResponse:
        who = principal_of(request)
        case = _case_or_404(who, conversation_id)
        if case is None:
            return Response(status_code=404)
        context = case_page_context(case, queues=queues_of(who.tenant), done=done, now=clock(), lookup=clause_lookup,
                                    polls=polls)
        return render(request, "_panel_update.html", {**context, "oob": True}, who=who)

    @app.post("/cases/{conversation_id}/act", response_class=HTMLResponse)
    async def act(request: Request, conversation_id: str) -> Response:
        who = principal_of(request)
        form = await checked_form(request, who)
        case = _case_or_404(who, conversation_id)
        if case is None:
            return Response(status_code=404)
        action_request = ActionRequest(action=str(form.get("action", "")), edited_text=form.get("edited_text"),
                                       reason=form.get("reason"), corrected_intent=form.get("corrected_intent"),
                                       queue=form.get("queue"))
        outcome = feedback_for(case, action_request, who, producer, frozenset(queues_of(who.tenant)))
        if isinstance(outcome, Refusal):
            store.record_action(tenant=who.tenant, actor=who.username, role=who.role, action=f"refused:{outcome.value}",
                                conversation_id=conversation_id, detail=action_request.action)
            done = f"refused:{outcome.value}"
        else:
            value = publisher.publish(outcome)
            projector.apply([value])  # the log is the truth; this only shows it without waiting for the consumer
            store.record_action(tenant=who.tenant, actor=who.username, role=who.role, action=outcome.action.value,
                                conversation_id=conversation_id, detail=_action_detail(outcome))
            metrics.ACTIONS.labels(case.tenant, case.category, case.locale, outcome.action.value).inc()
            if outcome.action.value in ("approve", "edit", "reject"):
                metrics.TIME_TO_ACTION.labels(case.tenant, outcome.action.value).observe(
                    max(0.0, (outcome.occurred_at - case.opened_at).total_seconds()))
            done = outcome.action.value
        if request.headers.get("hx-request"):
            fresh = store.case(who.tenant, conversation_id) or case
            context = case_page_context(fresh, queues=queues_of(who.tenant), done=done, now=clock(), lookup=clause_lookup)
            return render(request, "_panel_update.html", {**context, "oob": True}, who=who)
        return RedirectResponse(f"/cases/{conversation_id}?" + urlencode({"done": done}), status_code=303)

    @app.post("/cases/{conversation_id}/reveal", response_class=HTMLResponse)
    async def reveal(request: Request, conversation_id: str) -> Response:
        who = principal_of(request)
        await checked_form(request, who)
        if not who.may("reveal"):
            store.record_action(tenant=who.tenant, actor=who.username, role=who.role, action="refused:reveal",
                                conversation_id=conversation_id)
            raise PermissionError("role may not reveal")
        case = _case_or_404(who, conversation_id)
        if case is None:
            return Response(status_code=404)
        # Recorded before the text is opened: a reveal is audited even if the response never arrives.
        store.record_action(tenant=who.tenant, actor=who.username, role=who.role, action="reveal_original",
                            conversation_id=conversation_id)
        metrics.REVEALS.labels(who.tenant, who.role).inc()
        original = open_original((case.conversation or {}).get("sealed"), keystore)
        return render(request, "_original.html", {"original": original}, who=who)

    return app


def open_original(sealed: Optional[dict], keystore: Any) -> dict:
    if not sealed:
        return {"status": "not_kept"}
    if keystore is None:
        return {"status": "unreadable"}
    from casetrail.privacy.keystore import KeyErased, KeyStoreError

    try:
        return {"status": "ok", "text": keystore.open(sealed_from_view(sealed))}
    except KeyErased:
        return {"status": "erased"}
    except (KeyStoreError, ValueError, KeyError):
        return {"status": "unreadable"}
    except Exception:  # noqa: BLE001 - e.g. cryptography's InvalidTag for a tampered ciphertext
        return {"status": "unreadable"}


def query_string(filters: dict, changes: Optional[dict] = None) -> str:
    """The queue's query string with ``changes`` applied; empty values are left out."""
    merged = {**filters, **(changes or {})}
    return urlencode({k: v for k, v in merged.items() if v not in ("", None)})


def _action_detail(event) -> str:
    """What the action log keeps: codes and queues, never the edited text."""
    if event.reason:
        return f"reason={event.reason}" + (f" intent={event.corrected_intent}" if event.corrected_intent else "")
    if event.queue:
        return f"queue={event.queue}"
    if event.edited_text:
        return f"edited_chars={len(event.edited_text)}"
    return ""


def _safe_next(target: Any) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect after sign-in."""
    text = str(target or "")
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/queue"
    return text


def refresh_queue_gauges(store: ReviewStore, now: dt.datetime) -> None:
    metrics.QUEUE_DEPTH.clear()
    metrics.QUEUE_OLDEST_AGE.clear()
    metrics.QUEUE_NEXT_DUE.clear()
    for row in store.queue_stats():
        labels = (row["tenant"], row["queue"])
        metrics.QUEUE_DEPTH.labels(*labels).set(row["depth"])
        if row["oldest"]:
            metrics.QUEUE_OLDEST_AGE.labels(*labels).set(
                max(0.0, (now - dt.datetime.fromisoformat(row["oldest"])).total_seconds()))
        if row["next_due"]:
            metrics.QUEUE_NEXT_DUE.labels(*labels).set((dt.datetime.fromisoformat(row["next_due"]) - now).total_seconds())


__all__ = ["create_app", "RejectionReason", "CaseState"]
