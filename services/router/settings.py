"""The router's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own
(``CASETRAIL_ROUTER_*``); tenant rules live in the tenant policy."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from casetrail.settings import CasetrailSettings


class RouterSettings(CasetrailSettings):
    # CASETRAIL_ROUTER_SLA_TICK_SECONDS: how often the SLA timers are checked (the lateness bound of an
    # at-risk/breach event)
    router_sla_tick_seconds: float = Field(default=5.0, gt=0.0)
    # CASETRAIL_ROUTER_AT_RISK_FRACTION: overrides every tenant's ``sla.at_risk_fraction`` (tests, drills);
    # None: the tenant's own
    router_at_risk_fraction: Optional[float] = Field(default=None, gt=0.0, lt=1.0)
    # CASETRAIL_ROUTER_ESCALATE_ON_SLA: escalate open cases again when their SLA is at risk / breached
    router_escalate_on_sla: bool = True
