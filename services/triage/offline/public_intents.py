"""Public intent data mapped onto the shop taxonomy: which source intent becomes which category.

Each table maps a source intent to a category of ``casetrail.policy.taxonomy``,
to ``out_of_scope`` (a request that is not for an online shop: the hard negatives
that teach the out-of-scope class), or to ``DROP`` (ambiguous for a shop: its
texts would teach the wrong thing either way). Every choice has its reason.

Sources (attributed in services/triage/data/README.md):

- BANKING77 (PolyAI, Casanueva et al. 2020, CC-BY-4.0): a bank's customer queries.
  Card payments seen from the payer's side (declined, pending, charged twice, not
  recognised) and refunds map onto the shop's payment and refund categories; the
  bank's own products (top-ups, transfers, ATMs, PINs, exchange rates) are out of scope.
- CLINC150 (Larson et al. 2019, CC-BY-3.0): 150 intents of a voice assistant plus
  out-of-scope queries. Package tracking, fraud and card declines map on; the other
  domains (travel, small talk, kitchen, work, utilities, banking products) and the
  out-of-scope queries are out of scope.

Only ``train.csv`` (BANKING77) and ``train``/``oos_train`` (CLINC150) are read: the
validation splits stay untouched for the CLINC150 benchmark's tuning runs.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

from casetrail.policy.taxonomy import DEFAULT_CATEGORIES, OUT_OF_SCOPE

DROP = "drop"
OOS = OUT_OF_SCOPE

BANKING77: dict[str, str] = {
    # -- onto the shop's categories ---------------------------------------------------------
    "declined_card_payment": "payment_issue",  # "my card payment was declined": a shop checkout decline
    "pending_card_payment": "payment_issue",  # "payment still pending": payment not confirmed
    "reverted_card_payment?": "payment_issue",  # payment went through then came back: payment failed
    "transaction_charged_twice": "payment_issue",  # charged twice: named in the taxonomy as payment_issue
    "card_payment_not_recognised": "fraud_report",  # a card payment the customer never made
    "compromised_card": "fraud_report",  # someone is using my card: stolen card used
    "Refund_not_showing_up": "refund_status",  # "where is my refund": the money has not arrived
    "request_refund": "refund_policy",  # "can I get a refund for something I bought"
    "terminate_account": "account_delete",  # close / delete my account
    "edit_personal_details": "account_edit",  # change name, address, phone in the profile
    "passcode_forgotten": "account_access",  # forgotten password, cannot get in
    # -- ambiguous for a shop ---------------------------------------------------------------
    "direct_debit_payment_not_recognised": DROP,  # bank direct debits; some texts ask to dispute (fraud or dispute?)
    "card_payment_fee_charged": DROP,  # "a fee for paying by card": a shop fee complaint or a bank fee
    "extra_charge_on_statement": DROP,  # an extra charge: payment_issue at a shop, a bank fee here
    "supported_cards_and_currencies": DROP,  # mostly top-up cards; close to payment_methods at a shop
    "apple_pay_or_google_pay": DROP,  # mostly top-ups; close to payment_methods at a shop
    "card_acceptance": DROP,  # "where can I use my card": close to payment_methods
    "verify_my_identity": DROP,  # identity checks: account_access-like at a shop
    "unable_to_verify_identity": DROP,
    "why_verify_identity": DROP,
    "lost_or_stolen_phone": DROP,  # an app on a lost phone: account security, bank-specific
    "cancel_transfer": DROP,  # "cancel" near order_cancellation
    "age_limit": DROP,  # "how old do I have to be to open an account": near account_create
}
# Every other BANKING77 intent is the bank's own business (top-ups, transfers, cash, ATMs, PINs,
# exchange rates, physical and virtual bank cards, their delivery): out of scope for a shop.
BANKING77_DEFAULT = OOS

CLINC150: dict[str, str] = {
    "order_status": "order_status",  # "track my package"
    "report_fraud": "fraud_report",  # fraudulent charges on my card / account
    "card_declined": "payment_issue",  # "why did my card not get accepted"
    # -- ambiguous for a shop ---------------------------------------------------------------
    "order": DROP,  # asks an assistant to buy something: near place_order
    "cancel": DROP,  # "cancel that" (to the assistant): near order_cancellation
    "account_blocked": DROP,  # a blocked bank account: account_access at a shop
    "freeze_account": DROP,  # freeze because of theft: near fraud_report
    "report_lost_card": DROP,  # lost card: near fraud_report ("stolen card")
    "damaged_card": DROP,
    "change_user_name": DROP,  # the name the assistant calls me: near account_edit
    "user_name": DROP,
    "thank_you": DROP,  # thanks for the help: feedback at a shop
    "are_you_a_bot": DROP,  # "am I talking to a person?": near contact_human
    "make_call": DROP,  # "call ...": near contact_human
    "payday": DROP,
    "transactions": DROP,  # recent transactions: near payment questions
    "spending_history": DROP,
    "redeem_rewards": DROP,  # rewards / points: near product or payment questions
    "rewards_balance": DROP,
    "shopping_list_update": DROP,  # "add X to my list": near order_change
    "express_mail": DROP,
}
# Every other CLINC150 intent (travel, small talk, kitchen, auto, home, work, utilities, meta,
# banking and credit-card products) and the oos queries: out of scope for a shop.
CLINC150_DEFAULT = OOS


@dataclass(frozen=True)
class Row:
    text: str
    label: str
    language: str
    source: str


def _sample(rng: random.Random, items: list[str], limit: int) -> list[str]:
    unique = sorted(set(t.strip() for t in items if t.strip()))
    rng.shuffle(unique)
    return unique[:limit]


def banking77_rows(path: Path, per_category_intent: int, per_oos_intent: int, seed: int = 77) -> list[Row]:
    """Mapped BANKING77 rows: up to ``per_category_intent`` texts of each intent mapped onto a category,
    ``per_oos_intent`` of each out-of-scope intent."""
    by_intent: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_intent.setdefault(row["category"], []).append(row["text"])
    rng = random.Random(seed)
    rows: list[Row] = []
    for intent in sorted(by_intent):
        label = BANKING77.get(intent, BANKING77_DEFAULT)
        if label == DROP:
            continue
        limit = per_oos_intent if label == OOS else per_category_intent
        rows += [Row(t, label, "en", f"banking77:{intent}") for t in _sample(rng, by_intent[intent], limit)]
    return rows


def clinc150_rows(path: Path, per_category_intent: int, per_oos_intent: int, oos_queries: int,
                  seed: int = 150) -> list[Row]:
    """Mapped CLINC150 rows from ``train`` and ``oos_train`` (``val`` and ``oos_val`` are not read)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    by_intent: dict[str, list[str]] = {}
    for text, intent in raw["train"]:
        by_intent.setdefault(intent, []).append(text)
    rng = random.Random(seed)
    rows: list[Row] = []
    for intent in sorted(by_intent):
        label = CLINC150.get(intent, CLINC150_DEFAULT)
        if label == DROP:
            continue
        limit = per_oos_intent if label == OOS else per_category_intent
        rows += [Row(t, label, "en", f"clinc150:{intent}") for t in _sample(rng, by_intent[intent], limit)]
    rows += [Row(t, OOS, "en", "clinc150:oos") for t in _sample(rng, [t for t, _ in raw["oos_train"]], oos_queries)]
    return rows


def check_tables() -> None:
    """Every mapped label is a category of the taxonomy, out_of_scope or DROP."""
    allowed = set(DEFAULT_CATEGORIES) | {OOS, DROP}
    for name, table in (("BANKING77", BANKING77), ("CLINC150", CLINC150)):
        unknown = {v for v in table.values() if v not in allowed}
        if unknown:
            raise ValueError(f"{name} mapping names unknown categories: {sorted(unknown)}")
