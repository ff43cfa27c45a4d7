"""``make demo``: the whole pipeline on a real broker, the way a newcomer tries it.

Starts the broker (or uses ``KAFKA_BOOTSTRAP_SERVERS``), applies the topics
under a fresh prefix, publishes the sample knowledge base, starts all seven
services and the review console, sends the bundled sample tickets, prints one row per ticket
(locale, intent and confidence, mode, decision, queue, citations, first-response
latency), prints the full lineage of one escalated ticket, and stops everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from casetrail_tools.fake_platforms import FakePlatforms, delivery_config_yaml, delivery_secrets_env
from casetrail_tools.intake_publisher import IntakePublisher, ticket_from_line
from casetrail_tools.pipeline_harness import Pipeline, prepare_run
from casetrail_tools.pipeline_observer import ConversationTrail, PipelineObserver
from casetrail_tools.sample_tickets import SampleTicket, sample_tickets
from casetrail.events import DeadLetter
from casetrail.settings import REPO_ROOT

TENANT = "acme-shop"


@dataclass
class TicketOutcome:
    ticket: SampleTicket
    intake_event_id: str
    trail: Optional[ConversationTrail]


@dataclass
class DemoResult:
    prefix: str
    data_dir: Path
    outcomes: list[TicketOutcome]
    lineage_text: str
    lineage_conversation: Optional[str]
    dead_letters: int
    exit_codes: dict[str, int]
    console_url: str = ""
    console_login: Optional[object] = None
    review_cases: tuple[str, ...] = ()  # the demo's conversations routed to people
    queued_cases: tuple[str, ...] = ()  # of those, the ones the console's queue shows
    platform_lines: list[str] = None  # what the fake ticketing platforms received, per ticket
    platform_state: dict = None


def _cli(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casetrail.cli", *args], cwd=REPO_ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, check=check)


def _lineage_with_decision(conversation_id: str, env: dict[str, str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    """``casetrail lineage`` of the conversation once the audit store holds its routed decision.

    The audit service folds the log asynchronously: the router's decision can reach the
    observer before it reaches the audit store, so ask again until the lineage shows it.
    """
    deadline = time.monotonic() + timeout
    while True:
        shown = _cli(["lineage", conversation_id], env, check=False)
        if (shown.returncode == 0 and " routed " in shown.stdout) or time.monotonic() > deadline:
            return shown
        time.sleep(1)


def _send(publisher: IntakePublisher, tickets: list[SampleTicket]) -> list[str]:
    ids = []
    for ticket in tickets:
        intake = ticket_from_line(json.loads(ticket.jsonl(TENANT)), TENANT)
        publisher.publish(intake)
        ids.append(intake.event_id)
    if publisher.flush():
        raise RuntimeError("the broker did not acknowledge every sample ticket")
    return ids


def _settled(observer: PipelineObserver, intake_ids: list[str], data_dir: Path) -> Callable[[PipelineObserver], bool]:
    from casetrail.operations.deadletter_originals import open_original
    from casetrail.privacy.keystore import KeyStore

    keystore = KeyStore(data_dir / "keys.sqlite")  # the services' store: dead letters' originals are sealed
    opened: dict[str, bytes] = {}

    def original(letter) -> bytes:
        if letter.event_id not in opened:
            opened[letter.event_id] = open_original(letter, keystore).value or b""
        return opened[letter.event_id]

    def done(_):
        for intake_id in intake_ids:
            trail = observer.trail_for_intake(intake_id)
            if trail is None or not trail.routed:
                # a ticket ingest refused is settled too: it is in the dead-letter topic
                if not any(isinstance(d.event, DeadLetter) and intake_id.encode() in original(d.event)
                           for d in observer.dead_letters):
                    return False
        return True

    return done


def run_demo(
    progress: Callable[[str], None] = print,
    *,
    data_dir: Optional[Path] = None,
    port_offset: int = 0,
    settle_timeout: float = 240.0,
    keep_console: bool = False,
) -> DemoResult:
    progress("1. Kafka and 2. the sample knowledge base")
    run = prepare_run("demo", progress=lambda line: progress(f"   {line}"), data_dir=data_dir)
    prefix, data_dir, env, run_id = run.prefix, run.data_dir, run.env, run.run_id
    progress(f"   {run.topics_created} topics created under prefix {prefix!r}")
    for line in run.kb_published[-6:]:
        progress(f"   {line}")

    progress("3. Services, the review console, and local Zendesk / Freshdesk / Intercom / ServiceNow / SMTP servers"
             " for delivery")
    from casetrail_tools.demo_console import queued_conversations, write_demo_account
    from casetrail_tools.pipeline_harness import SERVICES

    login = write_demo_account(data_dir)
    fakes = FakePlatforms().start()
    delivery_dir = data_dir / "delivery"
    delivery_dir.mkdir(exist_ok=True)
    (delivery_dir / f"{TENANT}.yaml").write_text(delivery_config_yaml(TENANT, fakes.http_url, fakes.smtp_port))
    env = {**env, "CASETRAIL_DELIVERY_CONFIG_DIR": str(delivery_dir), **delivery_secrets_env(TENANT),
           "CASETRAIL_DELIVERY_SECRETS_DIR": str(delivery_dir / "no-secret-files")}
    pipeline = Pipeline(prefix=prefix, log_dir=data_dir / "logs", port_offset=port_offset, env=env,
                        services=SERVICES + ("review",))
    observer = PipelineObserver(prefix).start()
    pipeline.start()
    exit_codes: dict[str, int] = {}
    try:
        pipeline.wait_ready(progress=progress)
        tickets = sample_tickets(run_id=run_id)
        wave1 = [t for t in tickets if t.wave == 1]
        wave2 = [t for t in tickets if t.wave == 2]
        publisher = IntakePublisher(prefix)

        progress(f"4. Sending {len(wave1)} sample tickets (then {len(wave2)} re-contact)")
        ids1 = _send(publisher, wave1)
        observer.wait_for(_settled(observer, ids1, run.data_dir), settle_timeout)
        ids2 = _send(publisher, wave2)
        observer.wait_for(_settled(observer, ids2, run.data_dir), settle_timeout / 2)
        outcomes = [TicketOutcome(t, i, observer.trail_for_intake(i)) for t, i in zip(wave1 + wave2, ids1 + ids2)]
        progress("")
        for line in decision_table(outcomes):
            progress(line)

        escalations = [o for o in outcomes if o.trail and o.trail.decision is not None
                       and o.trail.decision.action.value == "escalate"]
        # Prefer one a tenant rule escalated (fraud, VIP, ...): its lineage shows the most.
        escalated = next((o for o in escalations if o.trail.decision.rule), escalations[0] if escalations else None)
        lineage_text, lineage_id = "", None
        if escalated is not None:
            lineage_id = escalated.trail.conversation_id
            shown = _lineage_with_decision(lineage_id, env)
            lineage_text = shown.stdout if shown.returncode == 0 else f"(lineage unavailable: {shown.stderr.strip()[-500:]})"
            progress("")
            progress(f"5. Lineage of the escalated ticket {escalated.ticket.label!r} ({lineage_id})")
            progress(lineage_text)
        dead = len(observer.dead_letters)
        _wait_for_platforms(fakes)
        platform_lines = platform_table(outcomes, fakes.state.snapshot())
        progress("")
        progress("6. What the ticketing platforms received (public reply, internal note, tags, assignment)")
        for line in platform_lines:
            progress(line)
        console_url = f"http://127.0.0.1:{pipeline.handles['review'].port}"
        review_cases = tuple(o.trail.conversation_id for o in outcomes if o.trail and o.trail.decision is not None
                             and (o.trail.decision.deferred_action or o.trail.decision.action).value
                             in ("review", "escalate"))
        queued = queued_conversations(console_url, login, set(review_cases))
        progress("")
        progress(f"7. Review console: {len(set(review_cases) & queued)} of the demo's {len(review_cases)} cases "
                 f"for people are in its queue")
        progress(f"   {console_url}/queue  sign in as {login.username} / {login.password}")
        if keep_console:
            progress("   the services keep running for you to look: press Enter (or Ctrl-C) to stop them")
            try:
                input()
            except (EOFError, KeyboardInterrupt):
                pass
    finally:
        observer.stop()
        progress("8. Stopping services (SIGTERM)")
        exit_codes = pipeline.stop()
        progress("   " + ", ".join(f"{name}: exit {code}" for name, code in exit_codes.items()))
        state = fakes.state.snapshot()
        fakes.stop()
    return DemoResult(prefix, data_dir, outcomes, lineage_text, lineage_id, dead, exit_codes, console_url, login,
                      review_cases, tuple(sorted(queued & set(review_cases))), platform_lines, state)


def _wait_for_platforms(fakes: FakePlatforms, quiet: float = 4.0, timeout: float = 60.0) -> None:
    """Until the platforms received nothing new for ``quiet`` seconds (delivery runs behind the router)."""
    deadline, last_count, last_change = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(fakes.state.requests)
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return
        time.sleep(0.25)


def _received_by(trail, state: dict) -> tuple[str, list[str]]:
    conversation = trail.received[-1].event.conversation if trail and trail.received else None
    if conversation is None:
        return "-", ["(not received)"]
    where = f"{conversation.source} {conversation.external_id[:18]}"
    if conversation.source == "email":
        mails = [m for m in state["mail"] if m["headers"].get("X-Casetrail-Conversation") == trail.conversation_id]
        lines = [f"{'reply e-mail' if m['headers'].get('Auto-Submitted') == 'auto-replied' else 'hand-off e-mail'}"
                 f" to {m['rcpt_tos'][0].split('@')[0][:3]}…@{m['rcpt_tos'][0].split('@')[-1]}: "
                 f"{m['headers'].get('Subject', '')[:40]!r}, In-Reply-To {'yes' if m['headers'].get('In-Reply-To') else 'no'}"
                 for m in mails]
        return where, lines or ["(nothing)"]
    ticket = next((t for t in state["tickets"] if t["platform"] == conversation.source
                   and t["external_id"] == conversation.external_id), None)
    if ticket is None:
        return where, ["(nothing: no platform configured for this source)" if conversation.source == "generic"
                       else "(nothing)"]
    lines = []
    for message in ticket["messages"]:
        first = next((line for line in message["body"].splitlines() if line.strip()), "")[:60]
        lines.append(f"{'public reply' if message['public'] else 'internal note'} ({len(message['body'])} chars): {first!r}")
    extras = []
    if ticket["group"] or ticket["assignee"]:
        extras.append(f"group {ticket['group'] or ticket['assignee']}")
    if ticket["priority"]:
        extras.append(f"priority {ticket['priority']}")
    if ticket["tags"]:
        extras.append("tags " + ", ".join(ticket["tags"]))
    if extras:
        lines.append("; ".join(extras))
    return where, lines


def platform_table(outcomes: list[TicketOutcome], state: dict) -> list[str]:
    lines = [f"{'ticket':42} {'where':26} received", "-" * 110]
    for outcome in outcomes:
        where, received = _received_by(outcome.trail, state)
        lines.append(f"{outcome.ticket.label[:42]:42} {where:26} {received[0]}")
        lines.extend(f"{'':42} {'':26} {line}" for line in received[1:])
    return lines


def decision_table(outcomes: list[TicketOutcome]) -> list[str]:
    header = f"{'ticket':42} {'loc':3} {'intent (conf)':28} {'mode':10} {'decision':11} {'queue':18} {'cites':5} {'first resp':>10}"
    lines = [header, "-" * len(header)]
    for outcome in outcomes:
        trail = outcome.trail
        decision = trail.decision if trail else None
        if decision is None:
            lines.append(f"{outcome.ticket.label[:42]:42} {'-':3} {'(no decision: see dead letters/logs)':28}")
            continue
        triage = decision.triage
        latency = trail.first_response_seconds()
        lines.append(
            f"{outcome.ticket.label[:42]:42} {decision.locale:3} "
            f"{(triage.intent + f' ({triage.intent_confidence:.2f})')[:28]:28} {decision.mode.value:10} "
            f"{decision.action.value:11} {(decision.queue or '-')[:18]:18} {len(decision.citations):5} "
            f"{(f'{latency * 1000:.0f} ms' if latency is not None else '-'):>10}"
        )
    return lines


def main() -> None:
    # At a terminal the demo keeps the services up after the table so the console can be tried;
    # without one (CI, a pipe) it stops at once.
    result = run_demo(keep_console=sys.stdin.isatty())
    missing = [o.ticket.label for o in result.outcomes if not (o.trail and o.trail.decision)]
    print("")
    print(f"{len(result.outcomes) - len(missing)}/{len(result.outcomes)} tickets reached a routed decision; "
          f"{result.dead_letters} dead letters; logs in {result.data_dir / 'logs'}")
    if missing:
        print("no decision for: " + ", ".join(missing))
        sys.exit(1)
    print(f"review console: {result.console_url}/queue — sign in as {result.console_login.username} / "
          f"{result.console_login.password} ({len(result.queued_cases)} of the demo's {len(result.review_cases)} "
          f"cases for people were in its queue{'' if sys.stdin.isatty() else '; the demo has stopped it'})")
    if set(result.review_cases) - set(result.queued_cases):
        sys.exit(1)


if __name__ == "__main__":
    main()
