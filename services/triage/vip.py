"""VIP from the tenant's CEL criteria over customer fields (any criterion true makes a VIP)."""

from __future__ import annotations

from casetrail.events.conversation import CustomerContext
from casetrail.policy.expressions import ExpressionError
from casetrail.policy.tenant import TenantPolicy


def customer_variables(customer: CustomerContext) -> dict:
    """The ``customer`` map CEL conditions read; missing numbers are 0, missing strings ''."""
    variables: dict = {k: v for k, v in customer.attributes.items()}
    variables.update({
        "tier": customer.tier or "",
        "lifetime_value": float(customer.lifetime_value or 0.0),
        "region": customer.region or "",
    })
    return {"customer": variables}


def is_vip(policy: TenantPolicy, customer: CustomerContext) -> tuple[bool, list[str]]:
    """(vip?, the criteria that matched). A criterion that fails to evaluate counts as not matched."""
    variables = customer_variables(customer)
    matched = []
    for condition in policy.vip_conditions:
        try:
            if condition.evaluate(variables):
                matched.append(condition.source)
        except ExpressionError:
            continue
    return bool(matched), matched
