"""The review console in real headless Chromium against the real services on the real broker.

Three routine Zendesk requests go through ingest → triage → drafter → verifier
→ router and land in the console's queue (the tenant reviews invoice and
cancellation drafts: those categories are in ``assist`` mode for this run). An
agent signs in, approves the first draft (the router sends it as the agent and
delivery posts it to the local Zendesk), edits the second with a number its
clause does not hold (the verifier refuses it, the console shows why, nothing
is sent) and rejects the third with a reason. Asserted on the topics: the
agents' feedback events, the reply on the outbound topic, the verifier's
verdict on the edit; at the fake Zendesk: the approved reply as the one public
reply, nothing public on the other two; in the console's store: three labelled
examples. A second tenant's agent sees none of it, and sees their own case the
first cannot.

Chromium is Debian's package (``make browser`` installs it); Playwright drives
it through ``executable_path``, never a downloaded browser.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import time
import zlib
from pathlib import Path

import pytest
import yaml

from casetrail.grounding.sentences import without_markers

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CASETRAIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PORT_OFFSET = int(os.environ.get("CASETRAIL_E2E_PORT_OFFSET", "50"))  # another checkout's e2e run: another offset
TICKETS = {
    "approve": "I need an invoice for my order",
    "edit": "cancel my order please",
    "reject": "how do i get a invoice with my company details if i already ordered as private",
}
REVIEWED_CATEGORIES = ("invoice", "order_cancellation")  # autonomous in the sample tenant; assist here


def tenants_reviewing(target: Path) -> Path:
    """The sample tenants, with acme-shop's invoice and cancellation drafts going to people."""
    shutil.copytree(Path(__file__).resolve().parents[2] / "config" / "tenants", target)
    policy = target / "acme-shop.yaml"
    text = policy.read_text()
    for category in REVIEWED_CATEGORIES:
        text, count = re.subn(rf"^(\s+{category}:\s+\{{threshold: [0-9.]+, mode: )autonomous\}}", r"\1assist}",
                              text, flags=re.M)
        assert count == 1, f"acme-shop.yaml: no autonomous {category} line to switch to assist"
    policy.write_text(text)
    return target


def zendesk_ticket(external_id: int, text: str, customer: int) -> dict:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"ticket": {"id": external_id, "subject": None, "description": text, "status": "new", "priority": "normal",
                       "requester_id": customer, "via": {"channel": "web"}, "tags": [], "created_at": now,
                       "updated_at": now},
            "comments": [{"id": 1, "author_id": customer, "public": True, "created_at": now, "body": text}],
            "users": [{"id": customer, "name": f"Customer {customer}", "role": "end-user", "locale": "en"}]}


@pytest.fixture(scope="module")
def console(kafka_bootstrap, tmp_path_factory):
    from casetrail.events import ProducerInfo, TriageResult, RoutedDecision
    from casetrail.events.decision import Action, Mode
    from casetrail.topics import DECISIONS_ROUTED, FEEDBACK_AGENT
    from casetrail_tools.fake_platforms import FakePlatforms, delivery_config_yaml, delivery_secrets_env
    from casetrail_tools.intake_publisher import IntakePublisher, ticket_from_line
    from casetrail_tools.pipeline_harness import SERVICES, Pipeline, prepare_run
    from casetrail_tools.pipeline_observer import WATCHED, PipelineObserver
    from services.review.auth import hash_password

    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium)")
    data_dir = tmp_path_factory.mktemp("review-e2e")
    run = prepare_run("review-e2e", data_dir=data_dir, progress=print)
    passwords = {"ana": secrets.token_urlsafe(12), "olga": secrets.token_urlsafe(12)}
    config_path = data_dir / "review.yaml"
    config_path.write_text(yaml.safe_dump({"accounts": [
        {"username": "ana", "tenant": "acme-shop", "role": "lead", "password_hash": hash_password(passwords["ana"])},
        {"username": "olga", "tenant": "other-shop", "role": "agent",
         "password_hash": hash_password(passwords["olga"])},
    ]}))
    fakes = FakePlatforms().start()
    delivery_dir = data_dir / "delivery"
    delivery_dir.mkdir()
    (delivery_dir / "acme-shop.yaml").write_text(delivery_config_yaml("acme-shop", fakes.http_url, fakes.smtp_port))
    env = {**run.env, "CASETRAIL_REVIEW_CONFIG": str(config_path), "CASETRAIL_REVIEW_SECRET_KEY": secrets.token_urlsafe(32),
           "CASETRAIL_TENANTS_DIR": str(tenants_reviewing(data_dir / "tenants")),
           "CASETRAIL_DELIVERY_CONFIG_DIR": str(delivery_dir), **delivery_secrets_env("acme-shop"),
           "CASETRAIL_DELIVERY_SECRETS_DIR": str(delivery_dir / "no-secret-files")}
    services = tuple(s for s in SERVICES if s != "audit") + ("review",)
    pipeline = Pipeline(prefix=run.prefix, log_dir=data_dir / "logs", services=services, port_offset=PORT_OFFSET,
                        env=env)
    observer = PipelineObserver(run.prefix, topics=WATCHED + (FEEDBACK_AGENT,)).start()
    pipeline.start()
    try:
        pipeline.wait_ready(progress=print)
        publisher = IntakePublisher(run.prefix)
        intake_ids, zendesk_ids = {}, {}
        for n, (name, text) in enumerate(TICKETS.items()):
            zendesk_ids[name] = str(zlib.crc32(f"{run.run_id}-{name}".encode()) % 10**7)
            ticket = ticket_from_line({"source": "zendesk", "tenant": "acme-shop",
                                       "payload": zendesk_ticket(int(zendesk_ids[name]), text, 7100 + n)}, "acme-shop")
            publisher.publish(ticket)
            intake_ids[name] = ticket.event_id
        # The other tenant's case, as the router would announce it (that tenant has no pipeline here).
        from casetrail.codec import AvroCodec
        from services.audit.erasure import publish

        other = RoutedDecision(
            conversation_id=f"{run.run_id}-other-shop-case", tenant="other-shop", locale="en",
            producer=ProducerInfo(service="router", version="test"), mode=Mode.assist, action=Action.review,
            queue="general-support", triage=TriageResult(intent="billing", intent_confidence=0.7, category="billing"),
            reply_text="Other tenant's draft.")
        topic = f"{run.prefix}{DECISIONS_ROUTED.name}"
        publish(topic, other.conversation_id, AvroCodec().encode(other, topic=topic))
        assert publisher.flush(30) == 0

        def routed(_):
            return all((trail := observer.trail_for_intake(i)) is not None and trail.decision is not None
                       for i in intake_ids.values())

        assert observer.wait_for(routed, 240), "the three tickets did not reach a routed decision"
        trails = {name: observer.trail_for_intake(i) for name, i in intake_ids.items()}
        for name, trail in trails.items():
            action = (trail.decision.deferred_action or trail.decision.action).value
            assert action == "review", f"{name}: routed {action} ({trail.decision.triage.category}), not to review"
        yield {"base": f"http://127.0.0.1:{pipeline.handles['review'].port}", "trails": trails, "observer": observer,
               "passwords": passwords, "other_case": other.conversation_id, "data_dir": data_dir,
               "pipeline": pipeline, "fakes": fakes, "zendesk_ids": zendesk_ids}
    finally:
        observer.stop()
        codes = pipeline.stop()
        fakes.stop()
        print("services stopped:", codes)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def sign_in(browser, base: str, username: str, password: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/queue")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue.*"))
    return page


def wait_for_rows(page, base: str, conversation_ids, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        shown = {row.get_attribute("data-conversation") for row in page.query_selector_all("tr.case-row")}
        if set(conversation_ids) <= shown:
            return
        assert time.monotonic() < deadline, f"not in the queue: {set(conversation_ids) - shown}"
        time.sleep(1)
        page.goto(f"{base}/queue")


def events_of(observer, kind: str, conversation_id: str):
    trail = observer.snapshot().get(conversation_id)
    return list(getattr(trail, kind, [])) if trail else []


def answers(observer, conversation_id: str):
    """Replies that answer the customer (an out-of-hours acknowledgement is not one)."""
    return [seen.event for seen in events_of(observer, "outbound", conversation_id) if seen.event.kind.value == "answer"]


def feedback_events(console, conversation_id: str):
    """AgentFeedback events on the feedback topic for one conversation (read with a fresh consumer)."""
    from confluent_kafka import Consumer

    from casetrail.codec import AvroCodec
    from casetrail.settings import kafka_settings
    from casetrail.topics import FEEDBACK_AGENT

    prefix = console["pipeline"].prefix
    consumer = Consumer({**kafka_settings().librdkafka_config(), "group.id": f"review-e2e-{secrets.token_hex(4)}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([f"{prefix}{FEEDBACK_AGENT.name}"])
    codec, found, deadline = AvroCodec(), [], time.monotonic() + 15
    try:
        while time.monotonic() < deadline:
            for message in consumer.consume(100, timeout=1.0):
                if message.error() or not message.value():
                    continue
                event = codec.decode(message.value())
                if event.conversation_id == conversation_id:
                    found.append(event)
            if found:
                break
    finally:
        consumer.close()
    return found


def zendesk_messages(console, name: str, public: bool) -> list[dict]:
    ticket = next((t for t in console["fakes"].state.snapshot()["tickets"]
                   if t["platform"] == "zendesk" and t["external_id"] == console["zendesk_ids"][name]), None)
    return [m for m in (ticket or {}).get("messages", []) if m["public"] is public]


def zendesk_answers(console, name: str) -> list[dict]:
    """Public replies on the ticket other than an out-of-hours acknowledgement (its body is the router's)."""
    outbound = events_of(console["observer"], "outbound", console["trails"][name].conversation_id)
    acknowledgements = [without_markers(seen.event.body).strip() for seen in outbound
                        if seen.event.kind.value == "acknowledgement"]
    return [m for m in zendesk_messages(console, name, public=True)
            if not any(m["body"].startswith(ack) for ack in acknowledgements)]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_an_agent_approves_edits_and_rejects_in_the_browser(console, browser):
    base, trails, observer = console["base"], console["trails"], console["observer"]
    ids = {name: trail.conversation_id for name, trail in trails.items()}
    page = sign_in(browser, base, "ana", console["passwords"]["ana"])
    wait_for_rows(page, base, ids.values())
    assert console["other_case"] not in {r.get_attribute("data-conversation") for r in page.query_selector_all("tr.case-row")}
    shots = Path(os.environ.get("CASETRAIL_SCREENSHOT_DIR") or console["data_dir"] / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "review-queue.png"))

    # 1. Approve: the router sends the draft as the agent.
    page.goto(f"{base}/cases/{ids['approve']}")
    page.screenshot(path=str(shots / "review-case.png"), full_page=True)
    page.click("#approve")
    page.wait_for_selector("#actions .alert.good")
    wait_until(lambda: answers(observer, ids["approve"]), 60, "no reply for the approved draft")
    [reply] = answers(observer, ids["approve"])
    assert reply.sent_by == "agent:ana"
    assert reply.body == trails["approve"].decision.reply_text
    approve = feedback_events(console, ids["approve"])
    assert [(f.action.value, f.agent_id) for f in approve] == [("approve", "ana")]
    # ... and delivery posted it to the customer's Zendesk ticket, once
    wait_until(lambda: zendesk_answers(console, "approve"), 60, "the approved reply never reached Zendesk")
    [posted] = zendesk_answers(console, "approve")
    # the customer reads it without the citation markers the decision keeps
    assert without_markers(reply.body) != reply.body and without_markers(posted["body"]) == posted["body"]
    assert posted["body"].startswith(without_markers(reply.body).strip())
    assert re.search(r"ref ct-[0-9a-f]{12}", posted["body"])

    # 2. Edit with a number its clause does not hold: refused by the verifier, shown, not sent.
    page.goto(f"{base}/cases/{ids['edit']}")
    page.click("details.act:has(textarea) summary")
    draft_text = page.input_value("textarea[name=edited_text]")
    ref = re.search(r"\[([\w.\-]+@[\w.\-+]+)\]", draft_text).group(1)
    page.fill("textarea[name=edited_text]", f"You can cancel any order within 45 days of delivery. [{ref}]\n{draft_text}")
    navigations, polls = [], []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.on("request", lambda request: polls.append(request.url) if "/panel?" in request.url else None)
    with page.expect_response(lambda r: r.url.endswith("/act") and r.request.method == "POST") as posted_edit:
        page.click("#send-edit")
    # The first answer says the edit is being checked (and keeps asking); the refusal follows by itself.
    assert 'id="checking"' in posted_edit.value.text() and "Checking your edit" in posted_edit.value.text()
    page.wait_for_selector("#edit-refused", timeout=60_000)
    refusal = page.inner_text("#edit-refused")
    assert "statements_supported" in refusal and "45 days" in refusal
    assert navigations == [] and polls, (navigations, polls)  # no reload: the panel asked for itself
    assert page.inner_text("#case-status .state") == "Edit refused"
    assert page.is_hidden("#checking")
    history = page.inner_text("#history")
    assert "feedback:edit ana" in history and "edit_refused verifier statements_supported" in history
    page.screenshot(path=str(shots / "review-edit-refused.png"), full_page=True)
    verdicts = [v.event for v in events_of(observer, "verified", ids["edit"]) if v.event.draft.composer == "agent:ana"]
    assert verdicts and verdicts[-1].verification.verdict.value == "failed"
    time.sleep(2)  # a send, were there one, would follow the verdict within milliseconds
    assert answers(observer, ids["edit"]) == []

    # 3. Reject with a reason code.
    page.goto(f"{base}/cases/{ids['reject']}")
    page.click("details.act:has(input[value=wrong_clause]) summary")
    page.check("input[name=reason][value=wrong_clause]")
    page.click("#reject")
    page.wait_for_selector("#actions .alert.good")
    rejected = feedback_events(console, ids["reject"])
    assert [(f.action.value, f.reason, f.agent_id) for f in rejected] == [("reject", "wrong_clause", "ana")]
    assert answers(observer, ids["reject"]) == []
    # Nothing the agent did not approve reached the customer (the hand-off notes are internal).
    assert zendesk_messages(console, "edit", public=False) and zendesk_messages(console, "reject", public=False)
    assert zendesk_answers(console, "edit") == [] == zendesk_answers(console, "reject")
    assert len(zendesk_answers(console, "approve")) == 1

    # The corrections are labelled examples now (approve, edit, reject), text sealed.
    from services.review.store import ReviewStore

    store = ReviewStore(console["data_dir"] / "review" / "review.sqlite3")
    wait_until(lambda: len(store.examples("acme-shop")) == 3, 30, "three corrections did not become examples")
    labels = sorted(e["label"] for e in store.examples("acme-shop"))
    assert labels == ["approve", "edit", "reject"]
    assert all(e["sealed_text"] for e in store.examples("acme-shop"))
    page.context.close()


def test_a_second_tenants_agent_sees_none_of_it(console, browser):
    base, trails = console["base"], console["trails"]
    page = sign_in(browser, base, "olga", console["passwords"]["olga"])
    wait_for_rows(page, base, [console["other_case"]])
    shown = {row.get_attribute("data-conversation") for row in page.query_selector_all("tr.case-row")}
    assert shown == {console["other_case"]}
    for trail in trails.values():
        response = page.goto(f"{base}/cases/{trail.conversation_id}")
        assert response.status == 404
    # and an action on another tenant's case, with this agent's own valid session and token, finds nothing
    page.goto(f"{base}/queue")
    token = page.get_attribute("form[action='/logout'] input[name=csrf_token]", "value")
    response = page.request.post(f"{base}/cases/{trails['edit'].conversation_id}/act",
                                 form={"action": "approve", "csrf_token": token})
    assert response.status == 404
    # and without the token nothing is even looked up
    response = page.request.post(f"{base}/cases/{console['other_case']}/act", form={"action": "approve"})
    assert response.status == 403
    page.context.close()


def test_sign_in_refuses_a_wrong_password_and_pages_need_a_session(console, browser):
    base = console["base"]
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "not-the-password")
    page.click("form[action='/login'] button[type=submit]")
    assert page.locator(".alert.bad").is_visible()
    response = page.request.get(f"{base}/cases/{console['trails']['approve'].conversation_id}", max_redirects=0)
    assert response.status == 303 and "/login" in response.headers["location"]
    context.close()


def test_every_action_is_in_the_consoles_audit_log(console):
    from services.review.store import ReviewStore

    store = ReviewStore(console["data_dir"] / "review" / "review.sqlite3")
    actions = [(a["actor"], a["action"]) for a in reversed(store.actions("acme-shop"))]
    for expected in [("ana", "sign_in"), ("ana", "open_case"), ("ana", "approve"), ("ana", "edit"), ("ana", "reject")]:
        assert expected in actions, json.dumps(actions)
