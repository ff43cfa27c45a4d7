"""The default support taxonomy shared by triage, the knowledge base and the router.

Category ids are stable identifiers: tenant policies, KB clause ids and routing
rules refer to them. Default-taxonomy intents are the categories themselves.
"""

from __future__ import annotations

DEFAULT_CATEGORIES: dict[str, str] = {
    "order_status": "Order status and delivery",
    "returns_refunds": "Returns and refunds",
    "product_question": "Product questions",
    "payment_issue": "Payment issues",
    "account_access": "Account management and access",
    "bug_report": "Bug report",
    "feature_request": "Feature request",
    "how_to": "How-to",
    "api_integration": "API integration",
    "performance": "Performance",
    "billing": "Billing",
    "fraud_report": "Fraud report",
    "transaction_dispute": "Transaction dispute",
    "balance_inquiry": "Balance inquiry",
    "complaint_cancellation": "Complaint or cancellation",
}

OUT_OF_SCOPE = "out_of_scope"
SUPPORTED_LOCALES = ("en", "de", "fr", "es", "lt")
