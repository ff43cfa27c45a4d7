"""Compliance reports over a period (pure: conversation summaries in, figures out), and the
citation check they take (``citation_checker``: what the store and the knowledge base know).

Definitions (each figure states its numerator and denominator in the output):

* **customer-facing draft** — a reply that reached the customer (a
  ``ReplyOutbound`` was emitted, by the bot or by an agent). Its **citation
  trail is valid** when it cites at least one clause, every cited
  ``clause_id@kb_version`` is one the draft cited, and every one resolves in
  the versioned knowledge base (a published KB version listing the clause, or
  the knowledge module's ``resolve``). A citation that cannot be checked
  (no knowledge of that KB version here) is counted as *unverifiable*, not
  as valid.
* **automation rate** per category and locale — conversations answered by the
  bot without a human / conversations with a routing decision.
* **accuracy** per category and locale — from agent feedback: approved
  unchanged / drafts an agent reviewed (edits and rejections are shown too);
  **intent accuracy** — reviews without a corrected intent / reviews.
* **verifier failures by reason** — failed checks (by check name) of drafts
  whose verdict was not ``passed``.
* **SLA hit rate** — SLA clocks that stopped without a breach / clocks that
  stopped or breached (clocks still running are reported as open).
* **deflection** — conversations whose bot *answer was delivered* to the ticketing
  platform (a ``DeliveryReceipt``; acknowledgements are not answers, and an answer
  that never reached the customer deflected nothing) / conversations;
  **re-contact rate (7 days)** — deflected conversations whose customer came
  back within the window / deflected conversations; **honest deflection** =
  deflection × (1 − re-contact rate).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from typing import Callable, Iterable, Optional

from services.audit.records import iso_utc

CitationCheck = Callable[[str, str, str], Optional[bool]]  # (tenant, locale, "clause@version") -> valid / unknown


def citation_checker(store, tenant: Optional[str]) -> CitationCheck:
    """The report's citation check over what ``store`` (an ``AuditStore``) and the knowledge base know.

    A clause is valid when a published KB version lists it (``kb.published``
    events in the log) or the knowledge module resolves it. A version known
    here that lacks the clause is invalid; an unknown version is unverifiable.
    """
    known = store.kb_clauses(tenant)
    known_versions = {ref.rsplit("@", 1)[1] for ref in known}
    try:
        from casetrail.knowledge import resolve
    except Exception:  # the knowledge module is optional for the audit service
        resolve = None

    def check(row_tenant: str, locale: str, ref: str) -> Optional[bool]:
        if ref in known:
            return True
        clause_id, _, version = ref.rpartition("@")
        if resolve is not None:
            try:
                if resolve(row_tenant, "", clause_id, version) is not None:
                    return True
            except Exception:
                pass
        return False if version in known_versions else None

    return check


def parse_period(text: str) -> tuple[dt.datetime, dt.datetime, str]:
    """``2026``, ``2026-Q4``, ``2026-11``, ``2026-W45``, ``2026-11-02`` or ``2026-11-01..2026-11-15`` (dates inclusive)."""
    text = text.strip()
    utc = dt.timezone.utc
    if ".." in text:
        start_s, end_s = text.split("..", 1)
        start = _day(start_s)
        end = _day(end_s) + dt.timedelta(days=1)
        if end <= start:
            raise ValueError(f"period {text!r}: the end is before the start")
        return start, end, text
    if m := re.fullmatch(r"(\d{4})", text):
        y = int(m[1])
        return dt.datetime(y, 1, 1, tzinfo=utc), dt.datetime(y + 1, 1, 1, tzinfo=utc), text
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", text, re.I):
        y, q = int(m[1]), int(m[2])
        start = dt.datetime(y, 3 * q - 2, 1, tzinfo=utc)
        end = dt.datetime(y + 1, 1, 1, tzinfo=utc) if q == 4 else dt.datetime(y, 3 * q + 1, 1, tzinfo=utc)
        return start, end, text.upper()
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", text, re.I):
        start = dt.datetime.combine(dt.date.fromisocalendar(int(m[1]), int(m[2]), 1), dt.time(), utc)
        return start, start + dt.timedelta(days=7), text.upper()
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise ValueError(f"period {text!r}: month must be 01-12")
        start = dt.datetime(y, mo, 1, tzinfo=utc)
        end = dt.datetime(y + (mo == 12), 1 if mo == 12 else mo + 1, 1, tzinfo=utc)
        return start, end, text
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        start = _day(text)
        return start, start + dt.timedelta(days=1), text
    raise ValueError(
        f"period {text!r} not understood; use 2026, 2026-Q4, 2026-11, 2026-W45, 2026-11-02 or 2026-11-01..2026-11-15"
    )


def _day(text: str) -> dt.datetime:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text.strip()), dt.time(), dt.timezone.utc)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _rate(numerator: int, denominator: int) -> dict:
    return {"rate": (numerator / denominator) if denominator else None, "numerator": numerator, "denominator": denominator}


def honest_deflection(deflection_rate: Optional[float], recontact_rate: Optional[float]) -> Optional[float]:
    """Deflection × (1 − re-contact rate): deflection that did not come back."""
    if deflection_rate is None:
        return None
    return deflection_rate * (1.0 - (recontact_rate or 0.0))


def build_report(
    rows: Iterable[dict],
    *,
    since: dt.datetime,
    until: dt.datetime,
    period: str,
    tenant: Optional[str],
    citation_check: CitationCheck,
    now: Optional[dt.datetime] = None,
    recontact_window_days: int = 7,
) -> dict:
    """The compliance report of the conversations (summary rows) that started in the period."""
    now = now or dt.datetime.now(dt.timezone.utc)
    window_open_after = iso_utc(now - dt.timedelta(days=recontact_window_days))
    total = 0
    facing = valid = unverifiable = 0
    invalid_examples: list[str] = []
    decisions: dict[tuple[str, str], Counter] = defaultdict(Counter)
    failures: Counter = Counter()
    verdicts: Counter = Counter()
    sla = Counter()
    deflected = deflected_recontacted = answered = answered_recontacted = window_open = 0
    for row in rows:
        total += 1
        s = row["summary"]
        category, locale = s.get("category") or "unknown", row.get("locale") or "unknown"
        group = decisions[(category, locale)]
        group["conversations"] += 1
        if s.get("sent"):
            facing += 1
            outcome = _citation_trail(row, s, citation_check)
            if outcome is True:
                valid += 1
            elif outcome is None:
                unverifiable += 1
            elif len(invalid_examples) < 20:
                invalid_examples.append(row["conversation_id"])
        if s.get("action"):
            group["decisions"] += 1
            if s.get("sent_by") == "bot":
                group["automated"] += 1
        if s.get("feedback"):
            group["reviewed"] += 1
            group[f"feedback_{s['feedback']}"] += 1
            if s.get("corrected_intent"):
                group["intent_corrected"] += 1
        if s.get("verdict"):
            verdicts[s["verdict"]] += 1
            if s["verdict"] != "passed":
                failures.update(s.get("failed_checks") or ["(no failed check recorded)"])
        clock = s.get("sla") or {}
        if clock.get("started"):
            if clock.get("breached"):
                sla["breached"] += 1
            elif clock.get("stopped"):
                sla["hit"] += 1
            else:
                sla["open"] += 1
        came_back = bool(s.get("recontacted"))
        if s.get("sent"):
            answered += 1
            answered_recontacted += came_back
        if s.get("answer_delivered_by") == "bot":
            deflected += 1
            deflected_recontacted += came_back
            if (row.get("started_at") or "") > window_open_after:
                window_open += 1

    deflection = _rate(deflected, total)
    recontact = _rate(deflected_recontacted, deflected)
    return {
        "period": period,
        "since": iso_utc(since),
        "until": iso_utc(until),
        "tenant": tenant,
        "generated_at": iso_utc(now),
        "conversations": total,
        "citation_trail": {
            **_rate(valid, facing),
            "customer_facing_drafts": facing,
            "valid": valid,
            "unverifiable": unverifiable,
            "invalid": facing - valid - unverifiable,
            "invalid_examples": invalid_examples,
        },
        "by_category_locale": [
            {
                "category": category,
                "locale": locale,
                "conversations": c["conversations"],
                "automation": _rate(c["automated"], c["decisions"]),
                "accuracy": _rate(c["feedback_approve"], c["reviewed"]),
                "edited": c["feedback_edit"],
                "rejected": c["feedback_reject"],
                "intent_accuracy": _rate(c["reviewed"] - c["intent_corrected"], c["reviewed"]),
            }
            for (category, locale), c in sorted(decisions.items())
        ],
        "verifier": {"verdicts": dict(sorted(verdicts.items())), "failures_by_reason": dict(failures.most_common())},
        "sla": {**_rate(sla["hit"], sla["hit"] + sla["breached"]), "breached": sla["breached"], "open": sla["open"]},
        "deflection": {
            "deflection": deflection,
            "recontact_7d": recontact,
            "honest_deflection": honest_deflection(deflection["rate"], recontact["rate"]),
            "recontact_all_answered": _rate(answered_recontacted, answered),
            "recontact_window_still_open": window_open,
        },
    }


def _citation_trail(row: dict, s: dict, check: CitationCheck) -> Optional[bool]:
    sent = s.get("sent_citations") or []
    if not sent or any(c not in (s.get("citations") or []) for c in sent):
        return False
    results = [check(row.get("tenant") or "", row.get("locale") or "", c) for c in sent]
    if any(r is False for r in results):
        return False
    if any(r is None for r in results):
        return None
    return True


def _pct(rate: dict | Optional[float]) -> str:
    value = rate["rate"] if isinstance(rate, dict) else rate
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _frac(rate: dict) -> str:
    return f"{_pct(rate)} ({rate['numerator']}/{rate['denominator']})"


def render_markdown(report: dict) -> str:
    """The report as a readable Markdown document."""
    d = report["deflection"]
    ct = report["citation_trail"]
    lines = [
        f"# Compliance report — {report['period']}" + (f" — tenant {report['tenant']}" if report["tenant"] else ""),
        "",
        f"Conversations started {report['since']} to {report['until']} (exclusive): **{report['conversations']}**."
        f" Generated {report['generated_at']}.",
        "",
        "## Citation trail of customer-facing drafts",
        "",
        f"- valid: **{_frac(ct)}**",
        f"- invalid: {ct['invalid']}, unverifiable (KB version unknown here): {ct['unverifiable']}",
    ]
    if ct["invalid_examples"]:
        lines.append(f"- invalid examples: {', '.join(ct['invalid_examples'][:5])}")
    lines += [
        "",
        "## Deflection and re-contact (same view)",
        "",
        "| deflection | re-contact within 7 days | honest deflection | re-contact (all answered) |",
        "|---|---|---|---|",
        f"| {_frac(d['deflection'])} | {_frac(d['recontact_7d'])} | **{_pct(d['honest_deflection'])}** |"
        f" {_frac(d['recontact_all_answered'])} |",
        "",
        "Honest deflection = deflection × (1 − re-contact rate)."
        + (f" {d['recontact_window_still_open']} deflected conversations are less than 7 days old: their re-contact"
           " window is still open." if d["recontact_window_still_open"] else ""),
        "",
        "## Automation and accuracy by category and locale",
        "",
        "| category | locale | conversations | automation | accuracy (agent approved) | edited | rejected | intent accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in report["by_category_locale"]:
        lines.append(
            f"| {g['category']} | {g['locale']} | {g['conversations']} | {_frac(g['automation'])} | {_frac(g['accuracy'])}"
            f" | {g['edited']} | {g['rejected']} | {_frac(g['intent_accuracy'])} |"
        )
    v = report["verifier"]
    lines += ["", "## Verifier", "", "Verdicts: " + (", ".join(f"{k} {n}" for k, n in v["verdicts"].items()) or "none"), ""]
    if v["failures_by_reason"]:
        lines += ["| failed check | drafts |", "|---|---|"]
        lines += [f"| {name} | {n} |" for name, n in v["failures_by_reason"].items()]
    else:
        lines.append("No verifier failures.")
    s = report["sla"]
    lines += ["", "## SLA", "", f"- hit rate: **{_frac(s)}**; breached {s['breached']}; still open {s['open']}", ""]
    return "\n".join(lines)
