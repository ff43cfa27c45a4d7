"""Synthetic open cases for the benchmark and the screenshots: the events the router would have
produced (a verified draft and a review / escalate decision), in every locale, with SLA due times
spread around now, some VIP, some negative, some with failed checks."""

from __future__ import annotations

import datetime as dt
import random
from typing import Iterator

from casetrail.events import (
    CheckResult,
    Citation,
    Conversation,
    CustomerContext,
    Draft,
    DraftOutcome,
    DraftVerified,
    HandoffBrief,
    Message,
    ProducerInfo,
    RetrievedClause,
    RoutedDecision,
    TriageResult,
    Verdict,
    Verification,
)
from casetrail.events.conversation import AuthorRole
from casetrail.events.decision import Action, Mode

# (category, queue, locale, subject, ticket, clause id, clause title, clause text, reply sentence)
TEMPLATES = [
    ("order_status", "general-support", "en", "Where is my parcel?",
     "Hi, I ordered a jacket last week ([ORDER_1]) and the tracking has not moved since Monday. When will it arrive?",
     "shipping.delivery_times", "Delivery times",
     "Orders ship within 2 business days. Standard delivery takes 3 to 5 business days after dispatch.",
     "Standard delivery takes 3 to 5 business days after dispatch."),
    ("refund_request", "payments-team", "de", "Rückerstattung für beschädigte Ware",
     "Hallo, die Vase kam zerbrochen an. Ich möchte mein Geld zurück, Bestellung [ORDER_1]. Mfg [NAME_1]",
     "refunds.damaged", "Beschädigte Ware",
     "Bei beschädigter Ware erstatten wir den vollen Kaufpreis innerhalb von 14 Tagen nach Eingang der Fotos.",
     "Wir erstatten den vollen Kaufpreis innerhalb von 14 Tagen nach Eingang der Fotos."),
    ("account_access", "general-support", "fr", "Impossible de me connecter",
     "Bonjour, je n'arrive plus à me connecter à mon compte depuis hier, le mot de passe est refusé.",
     "account.password_reset", "Réinitialiser le mot de passe",
     "Utilisez « Mot de passe oublié » sur la page de connexion ; le lien reçu par e-mail est valable 24 heures.",
     "Le lien de réinitialisation reçu par e-mail est valable 24 heures."),
    ("cancellation", "general-support", "es", "Cancelar mi pedido",
     "Hola, quiero cancelar el pedido [ORDER_1], lo pedí por error hace una hora.",
     "orders.cancellation", "Cancelación de pedidos",
     "Puede cancelar un pedido sin coste mientras no se haya enviado; después se aplica el proceso de devolución.",
     "Puede cancelar el pedido sin coste mientras no se haya enviado."),
    ("billing", "payments-team", "lt", "Sąskaita faktūra",
     "Laba diena, man reikia sąskaitos faktūros už užsakymą [ORDER_1] įmonės vardu.",
     "billing.invoices", "Sąskaitos faktūros",
     "Sąskaitą faktūrą galite atsisiųsti paskyroje per 30 dienų nuo užsakymo; įmonės duomenis galima pakeisti prieš apmokėjimą.",
     "Sąskaitą faktūrą galite atsisiųsti paskyroje per 30 dienų nuo užsakymo."),
    ("complaint_cancellation", "vip-support", "en", "Third time asking — cancel my subscription",
     "This is the THIRD time I write. Cancel my subscription today or I will dispute the charge with my bank.",
     "subscriptions.cancel", "Cancelling a subscription",
     "You can cancel a subscription at any time in Account → Subscriptions; it ends at the close of the paid period.",
     "You can cancel at any time in Account → Subscriptions; it ends at the close of the paid period."),
    ("payment_issue", "payments-team", "de", "Zahlung zweimal abgebucht",
     "Mir wurde die Bestellung [ORDER_1] zweimal abgebucht. Bitte prüfen Sie das.",
     "payments.double_charge", "Doppelte Abbuchung",
     "Eine doppelte Vormerkung wird von der Bank innerhalb von 5 Werktagen automatisch freigegeben.",
     "Eine doppelte Vormerkung wird innerhalb von 5 Werktagen automatisch freigegeben."),
]
FAILED = [("numbers_match", "'10 days' does not match the clause's '14 days'"),
          ("citations_resolve", "cites refunds.store_credit@kb-3, which was not retrieved")]


def synthetic_events(count: int, *, tenant: str = "acme-shop", now: dt.datetime, seed: int = 7,
                     kb_version: str = "1+demo") -> Iterator[object]:
    rng = random.Random(seed)
    producer = ProducerInfo(service="synthetic", version="1")
    for n in range(count):
        category, queue, locale, subject, ticket, clause_id, title, clause_text, sentence = TEMPLATES[n % len(TEMPLATES)]
        conversation_id = f"synthetic-{tenant}-{n:06d}"
        draft_id = f"{conversation_id}-d1"
        opened = now - dt.timedelta(minutes=rng.randint(5, 600))
        due = now + dt.timedelta(minutes=rng.randint(-90, 2880))
        vip = queue == "vip-support" or rng.random() < 0.05
        sentiment = -0.8 if category == "complaint_cancellation" else round(rng.uniform(-0.4, 0.3), 2)
        failed = [FAILED[n % 2]] if n % 5 == 0 else []
        ref = f"{clause_id}@{kb_version}"
        reply = f"{sentence} [{ref}]"
        disclosure = "This reply was drafted with the help of an AI assistant."
        conversation = Conversation(
            source="zendesk", external_id=f"Z-{n}", channel="email", subject=subject,
            messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=opened, body_text=ticket)],
            customer=CustomerContext(customer_id=f"cust-{n}", tier="gold" if vip else "standard"), received_at=opened,
        )
        triage = TriageResult(intent=category, intent_confidence=round(rng.uniform(0.55, 0.97), 2), category=category,
                              vip=vip, sentiment=sentiment, frustration=0.8 if sentiment < -0.5 else 0.1,
                              sla_due_at=due, language=locale, priority="high" if vip else "normal")
        checks = [CheckResult(name="citations_resolve", passed=True), CheckResult(name="disclosure_present", passed=True),
                  CheckResult(name="no_personal_data", passed=True)] + [
            CheckResult(name=name, passed=False, detail=detail) for name, detail in failed]
        draft = Draft(draft_id=draft_id, outcome=DraftOutcome.drafted, locale=locale, reply_text=f"{reply}\n\n{disclosure}",
                      retrieved=[RetrievedClause(clause_id=clause_id, kb_version=kb_version, locale=locale, score=0.82,
                                                 title=title, text=clause_text)],
                      citations=[Citation(clause_id=clause_id, kb_version=kb_version, score=0.82, sentence=sentence)],
                      confidence=0.74, disclosure=disclosure)
        verdict = Verdict.failed if failed else Verdict.needs_human
        yield DraftVerified(conversation_id=conversation_id, tenant=tenant, locale=locale, occurred_at=opened,
                            producer=producer, conversation=conversation, triage=triage, draft=draft,
                            verification=Verification(verdict=verdict, checks=checks, threshold=0.85))
        action = Action.escalate if vip or sentiment < -0.5 else Action.review
        yield RoutedDecision(
            conversation_id=conversation_id, tenant=tenant, locale=locale, occurred_at=opened + dt.timedelta(seconds=1),
            producer=producer, mode=Mode.assist, action=action, queue=queue, priority=triage.priority, triage=triage,
            draft_id=draft_id, reply_text=draft.reply_text, citations=[ref], verdict=verdict,
            brief=HandoffBrief(summary=f"{category.replace('_', ' ')}: the customer asks about {title.lower()}.",
                               signals={"tier": conversation.customer.tier or "", "contacts_in_7_days": "1"},
                               not_sent_because=[f"check {name} failed" for name, _ in failed] or
                                                ["category mode is assist: an agent approves"],
                               suggested_actions=["Confirm the order number before promising a date"]),
        )
