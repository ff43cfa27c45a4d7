"""One adapter per platform; ``make_adapter`` picks it from the platform's configuration."""

from __future__ import annotations

from typing import Optional

import httpx

from services.delivery.adapters.base import Adapter, NotApplicable, PlatformError, TransportError, Written
from services.delivery.config import (
    EmailConfig, FreshdeskConfig, IntercomConfig, PlatformConfig, ServiceNowConfig, ZendeskConfig,
)


def make_adapter(config: PlatformConfig, *, open_sealed=None,
                 transport: Optional[httpx.AsyncBaseTransport] = None) -> Adapter:
    if isinstance(config, ZendeskConfig):
        from services.delivery.adapters.zendesk import ZendeskAdapter
        return ZendeskAdapter(config, transport)
    if isinstance(config, IntercomConfig):
        from services.delivery.adapters.intercom import IntercomAdapter
        return IntercomAdapter(config, transport)
    if isinstance(config, FreshdeskConfig):
        from services.delivery.adapters.freshdesk import FreshdeskAdapter
        return FreshdeskAdapter(config, transport)
    if isinstance(config, ServiceNowConfig):
        from services.delivery.adapters.servicenow import ServiceNowAdapter
        return ServiceNowAdapter(config, transport)
    if isinstance(config, EmailConfig):
        from services.delivery.adapters.email import EmailAdapter
        if open_sealed is None:
            raise ValueError("the e-mail adapter needs a way to open sealed originals (the key store)")
        return EmailAdapter(config, open_sealed)
    raise TypeError(f"no adapter for {type(config).__name__}")


__all__ = ["Adapter", "NotApplicable", "PlatformError", "TransportError", "Written", "make_adapter"]
