"""Which candidate versions the gate promoted, per tenant and kind (what services may load).

A JSON file (``<data_dir>/versions/promoted.json``; in Kubernetes a volume the
gate's hook job writes) holding, per tenant and kind (``intent_model``,
``knowledge_base``, ``template``), the promoted version, where it lives and
the error rate it was promoted with, plus the history of verdicts. The
``versions.gate.v1`` topic carries the same verdicts as events for the lineage.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Optional

KINDS = ("intent_model", "knowledge_base", "template")


def default_path() -> Path:
    from casetrail.settings import settings

    return Path(os.environ.get("CASETRAIL_PROMOTIONS_FILE") or settings().data_dir / "versions" / "promoted.json")


class PromotedVersions:
    def __init__(self, path: Optional[Path] = None):
        self.path = Path(path) if path else default_path()

    def _read(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def promoted(self, tenant: str, kind: str) -> Optional[dict]:
        return self._read().get(tenant, {}).get(kind)

    def history(self, tenant: str, kind: str) -> list[dict]:
        return self._read().get(tenant, {}).get(f"{kind}.history", [])

    def record(self, tenant: str, kind: str, *, version: str, source: str, outcome: str, error_rate: float) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        data = self._read()
        entry = {"version": version, "source": source, "outcome": outcome, "error_rate": error_rate,
                 "at": dt.datetime.now(dt.timezone.utc).isoformat()}
        tenant_entries = data.setdefault(tenant, {})
        tenant_entries.setdefault(f"{kind}.history", []).append(entry)
        if outcome == "promoted":
            tenant_entries[kind] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(data, indent=2, sort_keys=True))
        scratch.replace(self.path)  # atomic: a service never reads half a file
