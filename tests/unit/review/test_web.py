"""The console's web app over a real store: sign-in, CSRF, roles, tenant isolation, actions, audit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from casetrail.codec import AvroCodec
from casetrail.events import FeedbackAction, Verdict
from casetrail.policy.tenant import load_policies
from casetrail.privacy.keystore import KeyStore
from casetrail.settings import settings
from services.review.auth import hash_password
from services.review.config import Account, ReviewConfig
from services.review.projection import Projector
from services.review.store import ReviewStore
from services.review.web import create_app
from tests.unit.review.factories import T0, decision, verified

PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for every account here


class RecordingPublisher:
    def __init__(self, codec):
        self.codec, self.events = codec, []

    def publish(self, event):
        self.events.append(event)
        return self.codec.encode(event)


@pytest.fixture
def console(console_and_projector):
    return console_and_projector[:3]


@pytest.fixture
def console_and_projector(tmp_path):
    codec, keystore = AvroCodec(), KeyStore(tmp_path / "keys.sqlite")
    store = ReviewStore(tmp_path / "review.sqlite3")
    projector = Projector(store, codec, keystore)
    original = keystore.seal("acme-shop", "cust-9", "Hello, I am Jane Roe, order 48213.")
    sealed = verified()
    sealed = sealed.model_copy(update={"conversation": sealed.conversation.model_copy(update={"original": original})})
    projector.apply([codec.encode(e) for e in (
        sealed, decision(),
        verified("failed-1", "d-f", verdict=Verdict.failed, failed=(("statements_supported", "'9 days'"),)),
        decision("failed-1", "d-f", verdict=Verdict.failed),
        verified("other-1", tenant="other-shop"), decision("other-1", tenant="other-shop"))])
    accounts = [Account(username=name, tenant=tenant, role=role, password_hash=HASH)
                for name, tenant, role in (("ana", "acme-shop", "agent"), ("lea", "acme-shop", "lead"),
                                           ("aud", "acme-shop", "auditor"), ("olga", "other-shop", "agent"))]
    publisher = RecordingPublisher(codec)
    app = create_app(store, ReviewConfig(accounts=accounts, secure_cookies=False), publisher=publisher,
                     projector=projector, policies=load_policies(settings().tenants_dir), keystore=keystore,
                     clock=lambda: T0 + dt.timedelta(minutes=30))
    return TestClient(app, base_url="http://console.test"), store, publisher, projector


def sign_in(client, username, password=PASSWORD):
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password,
                                       "next": "/queue"}, follow_redirects=False)


def csrf_of(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/queue").text).group(1)


def test_pages_need_a_session_and_sign_in_checks_the_password(console):
    client, _, _ = console
    assert client.get("/queue", follow_redirects=False).headers["location"].startswith("/login")
    assert "failed=1" in sign_in(client, "ana", "wrong password").headers["location"]
    assert sign_in(client, "ana").headers["location"] == "/queue"
    page = client.get("/queue")
    assert page.status_code == 200 and 'data-conversation="conv-1"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_the_login_form_refuses_a_post_without_its_token_and_never_redirects_off_site(console):
    client, _, _ = console
    assert client.post("/login", data={"username": "ana", "password": PASSWORD}).status_code == 403
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": "ana", "password": PASSWORD,
                                           "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/queue"


def test_another_tenants_case_does_not_exist_for_this_agent(console):
    client, _, publisher = console
    sign_in(client, "olga")
    assert 'data-conversation="conv-1"' not in client.get("/queue").text
    assert client.get("/cases/conv-1").status_code == 404
    response = client.post("/cases/conv-1/act", data={"csrf_token": csrf_of(client), "action": "approve"})
    assert response.status_code == 404 and publisher.events == []


def test_an_action_without_the_csrf_token_is_refused(console):
    client, _, publisher = console
    sign_in(client, "ana")
    assert client.post("/cases/conv-1/act", data={"action": "approve"}).status_code == 403
    assert publisher.events == []


def test_approve_publishes_feedback_with_the_agents_id_and_the_case_leaves_the_queue(console):
    client, store, publisher = console
    sign_in(client, "ana")
    response = client.post("/cases/conv-1/act", data={"csrf_token": csrf_of(client), "action": "approve"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'class="alert good"' in response.text
    [event] = publisher.events
    assert (event.action, event.agent_id, event.draft_id) == (FeedbackAction.approve, "ana", "draft-1")
    assert store.case("acme-shop", "conv-1").state.value == "approving"
    assert 'data-conversation="conv-1"' not in client.get("/queue").text
    assert ("ana", "approve") in {(a["actor"], a["action"]) for a in store.actions("acme-shop")}


def test_a_refused_edit_shows_on_the_page_without_a_reload(console_and_projector):
    """The edit's answer is "checking…" with a poll of the panel; once the verifier's verdict is in the
    store, the next poll shows the failed checks and swaps the state line and the history too."""
    client, store, publisher, projector = console_and_projector
    sign_in(client, "ana")
    answer = client.post("/cases/conv-1/act", headers={"HX-Request": "true"}, data={
        "csrf_token": csrf_of(client), "action": "edit", "edited_text": "Orders ship within 9 days [shipping-1@kb-7]."})
    assert 'id="checking"' in answer.text and 'hx-get="/cases/conv-1/panel?done=edit&amp;polls=1"' in answer.text
    assert re.search(r'id="case-status" hx-swap-oob="true">.*Checking edit', answer.text, re.S)
    assert re.search(r'id="history" hx-swap-oob="true">.*feedback:edit', answer.text, re.S)
    [edit] = publisher.events

    still = client.get("/cases/conv-1/panel?done=edit&polls=1", headers={"HX-Request": "true"}).text
    assert 'id="checking"' in still and "polls=2" in still and 'id="edit-refused"' not in still

    refusal = verified(draft_id="draft-1-edit", composer="agent:ana", verdict=Verdict.failed,
                       text=edit.edited_text, failed=(("statements_supported", "'9 days' is not in shipping-1@kb-7"),))
    projector.apply([AvroCodec().encode(refusal.model_copy(
        update={"occurred_at": edit.occurred_at + dt.timedelta(seconds=1)}))])
    shown = client.get("/cases/conv-1/panel?done=edit&polls=2", headers={"HX-Request": "true"}).text
    assert re.search(r'id="edit-refused">.*statements_supported</code>: &#39;9 days&#39; is not in', shown, re.S)
    assert 'id="checking"' not in shown and "hx-trigger" not in shown.split('id="case-status"')[0]
    assert re.search(r'id="case-status" hx-swap-oob="true">.*Edit refused', shown, re.S)
    assert re.search(r'id="history" hx-swap-oob="true">.*edit_refused</code> verifier statements_supported', shown, re.S)
    assert "Orders ship within 9 days" in shown  # the agent's text stays in the box to be corrected


def test_the_panel_stops_polling_after_a_minute_and_offers_to_check_again(console):
    client, store, publisher = console
    sign_in(client, "ana")
    client.post("/cases/conv-1/act", data={"csrf_token": csrf_of(client), "action": "approve"})
    assert store.case("acme-shop", "conv-1").state.value == "approving"
    last = client.get("/cases/conv-1/panel?done=approve&polls=59", headers={"HX-Request": "true"}).text
    assert 'id="checking"' in last and 'hx-trigger="load delay:1s"' in last and "polls=60" in last
    over = client.get("/cases/conv-1/panel?done=approve&polls=60", headers={"HX-Request": "true"}).text
    assert 'id="checking"' not in over and "hx-trigger" not in over
    assert re.search(r'id="still-checking".*No answer yet after 60 s.*href="/cases/conv-1" '
                     r'hx-get="/cases/conv-1/panel\?done=approve&amp;polls=0"', over, re.S)


def test_a_draft_that_failed_a_check_cannot_be_approved_only_edited_or_rejected(console):
    client, store, publisher = console
    sign_in(client, "ana")
    token = csrf_of(client)
    client.post("/cases/failed-1/act", data={"csrf_token": token, "action": "approve"})
    assert publisher.events == []
    client.post("/cases/failed-1/act", data={"csrf_token": token, "action": "reject", "reason": "made up"})
    assert publisher.events == []
    client.post("/cases/failed-1/act", data={"csrf_token": token, "action": "reject", "reason": "wrong_clause"})
    assert [(e.action, e.reason) for e in publisher.events] == [(FeedbackAction.reject, "wrong_clause")]


def test_reveal_is_for_leads_and_auditors_and_is_audited(console):
    client, store, _ = console
    sign_in(client, "ana")
    assert client.post("/cases/conv-1/reveal", data={"csrf_token": csrf_of(client)}).status_code == 403
    sign_in(client, "lea")
    response = client.post("/cases/conv-1/reveal", data={"csrf_token": csrf_of(client)})
    assert "Jane Roe" in response.text
    actions = [(a["actor"], a["action"]) for a in store.actions("acme-shop", "conv-1")]
    assert ("lea", "reveal_original") in actions and ("ana", "refused:reveal") in actions


def test_an_auditor_reads_but_cannot_act(console):
    client, _, publisher = console
    sign_in(client, "aud")
    page = client.get("/cases/conv-1")
    assert page.status_code == 200 and 'id="approve"' not in page.text
    client.post("/cases/conv-1/act", data={"csrf_token": csrf_of(client), "action": "approve"})
    assert publisher.events == []


def test_the_interface_follows_the_chosen_language(console):
    client, _, _ = console
    sign_in(client, "ana")
    client.post("/language", data={"csrf_token": csrf_of(client), "lang": "lt", "next": "/queue"})
    assert "Eilė" in client.get("/queue").text
