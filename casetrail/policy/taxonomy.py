"""The default support taxonomy shared by triage, the knowledge base and the router.

Category ids are stable identifiers: tenant policies, KB clause ids and routing
rules refer to them. Default-taxonomy intents are the categories themselves.

The taxonomy is an online shop's (decided for issue 15): 28 categories plus
``out_of_scope``. The descriptions say what the customer wants; they are shown
to agents (handoff briefs) and are the labelling guide for training data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    title: str  # a few words, as agents read it in a handoff brief
    description: str  # what the customer wants: the labelling guide for training data


DEFAULT_CATEGORIES: dict[str, Category] = {
    "order_status": Category(
        "Order status", "Where is my order: tracking number or link, has it shipped, status of an order"),
    "delivery_time": Category(
        "Delivery time", "How long delivery takes, in general or to a country; when an order placed today arrives"),
    "delivery_options": Category(
        "Delivery options",
        "Shipping methods and costs, express delivery, free-shipping threshold, countries, pickup points"),
    "delivery_problem": Category(
        "Delivery problem",
        "Parcel late, lost, marked delivered but not received, wrong or missing item in the parcel"),
    "order_change": Category("Order change", "Change the items, size, colour or quantity of an order already placed"),
    "address_change": Category("Address change", "Change the delivery address of an order, or saved addresses"),
    "order_cancellation": Category("Order cancellation", "Cancel an order"),
    "cancellation_fee": Category("Cancellation fee", "Whether there is a fee or penalty for cancelling"),
    "place_order": Category(
        "Placing an order",
        "How to place an order, checkout that cannot be completed (not a payment decline), ordering by phone, gift orders"),
    "invoice": Category("Invoice", "Get, download, resend or correct an invoice or VAT receipt"),
    "payment_methods": Category(
        "Payment methods", "Which payment methods are accepted: pay later, instalments, PayPal, bank transfer"),
    "payment_issue": Category("Payment issue", "Payment declined or failed, charged twice, payment not confirmed"),
    "return_request": Category("Return request", "How to return or exchange an item, return label, where to send it"),
    "refund_status": Category("Refund status", "Where is my refund, when will the money arrive"),
    "refund_policy": Category(
        "Refund policy", "Can I get a refund: return window, conditions, refunds for damaged or defective items"),
    "account_create": Category("Account creation", "How to create or register an account, problems registering"),
    "account_delete": Category("Account deletion", "Delete or close my account, erase my data"),
    "account_edit": Category(
        "Account details change", "Change e-mail, name, phone or password while logged in, switch accounts"),
    "account_access": Category(
        "Account access", "Forgotten password, cannot log in, account locked, two-factor codes"),
    "newsletter": Category("Newsletter", "Subscribe or unsubscribe, too many marketing e-mails"),
    "product_question": Category(
        "Product question", "Product details, sizes, materials, stock and restocks, care, warranty"),
    "bug_report": Category(
        "Bug report", "The website or app shows an error, a page does not load, a button is broken"),
    "feedback": Category("Feedback", "Compliments, suggestions, reviews"),
    "complaint": Category(
        "Complaint", "Complaint about service, staff or quality; dissatisfaction without another concrete request"),
    "contact_human": Category(
        "Request for a person", "Wants a person, an agent or a phone number; how to contact customer service"),
    "fraud_report": Category(
        "Fraud report", "Unauthorised orders or charges, hacked account, phishing, a stolen card used"),
    "legal_threat": Category(
        "Legal threat", "Lawyer, court, suing, consumer-protection authority, formal legal notice"),
    "transaction_dispute": Category(
        "Transaction dispute", "Chargeback, disputing a charge with the bank or card issuer"),
}

OUT_OF_SCOPE = "out_of_scope"
SUPPORTED_LOCALES = ("en", "de", "fr", "es", "lt")
