"""SLA due time: the tenant's target for (customer tier, priority), in business hours if configured."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from casetrail.policy.calendar import BusinessCalendar
from casetrail.policy.tenant import TenantPolicy


@dataclass(frozen=True)
class SlaDue:
    policy_label: str  # e.g. "enterprise/high"; stamped on the event as ``sla_policy``
    due_at: dt.datetime
    target: dt.timedelta
    business_hours: bool


def sla_due(policy: TenantPolicy, tier: Optional[str], priority: str, received_at: dt.datetime) -> SlaDue:
    label, target = policy.sla.target(tier, priority)
    if received_at.tzinfo is None:  # Avro timestamps decode as UTC; be explicit for naive input
        received_at = received_at.replace(tzinfo=dt.timezone.utc)
    if policy.sla.business_hours_only:
        due = BusinessCalendar(policy.business_hours).add_business_time(received_at, target)
    else:
        due = received_at.astimezone(dt.timezone.utc) + target
    return SlaDue(label, due, target, policy.sla.business_hours_only)
