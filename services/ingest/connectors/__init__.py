"""Source connectors: one module per source, found by discovery.

Every module in this package (other than ``base``) that exports ``CONNECTOR``
is registered under ``CONNECTOR.name``. Adding a source means adding one
module; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from services.ingest.connectors.base import Connector, NormalisedTicket
from services.ingest.rejections import UNKNOWN_SOURCE, Rejected


@cache
def registry() -> dict[str, Connector]:
    found: dict[str, Connector] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_") or module_info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        connector = getattr(module, "CONNECTOR", None)
        if connector is not None:
            if connector.name in found:
                raise RuntimeError(f"two connectors named {connector.name!r}")
            found[connector.name] = connector
    return found


def connector_for(source: str) -> Connector:
    try:
        return registry()[source.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(registry()))
        raise Rejected(UNKNOWN_SOURCE, f"no connector for source {source[:64]!r}; known sources: {known}") from None


__all__ = ["Connector", "NormalisedTicket", "connector_for", "registry"]
