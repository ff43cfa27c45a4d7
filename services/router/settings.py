"""Router-only settings (``CASETRAIL_ROUTER_*``); tenant rules live in the tenant policy."""

from __future__ import annotations

from typing import Optional

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RouterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASETRAIL_ROUTER_", env_file=".env", frozen=True, extra="ignore")

    # How often the SLA timers are checked: the lateness bound of an at-risk/breach event.
    sla_tick_seconds: float = Field(default=5.0, gt=0.0)
    # Overrides every tenant's ``sla.at_risk_fraction`` (tests, drills); None: the tenant's own.
    at_risk_fraction: Optional[float] = Field(default=None, gt=0.0, lt=1.0)
    # Escalate open cases again when their SLA is at risk / breached (a new RoutedDecision).
    escalate_on_sla: bool = True
