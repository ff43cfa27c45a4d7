"""Escalation rules from the tenant policy, evaluated in their configured order.

The first rule whose CEL condition holds decides queue and priority. A rule
that fails to evaluate (e.g. it reads ``customer.plan`` and this customer has
no such attribute) does not match, but it is reported: the decision records
it and the case is kept away from autonomous sending, because an unevaluated
rule might have been the one that forbids it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from casetrail.policy.expressions import ExpressionError
from casetrail.policy.tenant import RoutingRule, TenantPolicy


@dataclass(frozen=True)
class RuleEvaluation:
    matched: Optional[RoutingRule]
    errors: tuple[str, ...] = ()  # rule names that could not be evaluated

    @property
    def forbids_autonomy(self) -> bool:
        return bool(self.errors) or (self.matched is not None and (self.matched.never_autonomous or self.matched.escalate))


def evaluate_rules(policy: TenantPolicy, variables: dict[str, Any]) -> RuleEvaluation:
    errors: list[str] = []
    for rule, condition in policy.routing_conditions:
        try:
            if condition.evaluate(variables):
                return RuleEvaluation(matched=rule, errors=tuple(errors))
        except ExpressionError:
            errors.append(rule.name)
    return RuleEvaluation(matched=None, errors=tuple(errors))


def vip_by_policy(policy: TenantPolicy, customer: dict[str, Any]) -> bool:
    """The tenant's VIP criteria (any one suffices); a criterion that cannot evaluate is false."""
    for condition in policy.vip_conditions:
        try:
            if condition.evaluate({"customer": customer}):
                return True
        except ExpressionError:
            continue
    return False
