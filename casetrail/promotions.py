"""Which candidate versions the gate promoted, per tenant and kind (what services may load).

A JSON file (``<data_dir>/versions/promoted.json``; in Kubernetes a volume the
gate's hook job writes) holding, per tenant and kind (``intent_model``,
``knowledge_base``, ``template``), the promoted version, where it lives and
the error rate it was promoted with, plus the history of verdicts (each with
the gate's dev-set measurement: ``casetrail gate history`` shows them and the
rolling baseline made of them). The
``versions.gate.v1`` topic carries the same verdicts as events for the lineage.

Services read it once, at start-up (``PromotedVersions.read``; the Helm hook
writes it before the pods roll): triage picks each tenant's intent model, the
drafter each tenant's knowledge-base version. ``promoted_entry`` and
``refused_versions`` read a file's content without touching the disk.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Mapping, Optional

KINDS = ("intent_model", "knowledge_base", "template")


def default_path() -> Path:
    """``CASETRAIL_PROMOTIONS_FILE`` (``CasetrailSettings.promotions_path``); services pass their own settings'."""
    from casetrail.settings import settings

    return settings().promotions_path


class PromotedVersions:
    def __init__(self, path: Optional[Path] = None):
        self.path = Path(path) if path else default_path()

    def read(self) -> dict:
        """The whole file (``{}`` when there is none); ``ValueError`` naming the file when it is not JSON."""
        if not self.path.exists():
            return {}
        try:
            content = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"promotions file {self.path}: unreadable ({exc})") from exc
        if not isinstance(content, dict):
            raise ValueError(f"promotions file {self.path}: not a JSON object")
        return content

    def promoted(self, tenant: str, kind: str) -> Optional[dict]:
        return promoted_entry(self.read(), tenant, kind)

    def history(self, tenant: str, kind: str) -> list[dict]:
        return self.read().get(tenant, {}).get(f"{kind}.history", [])

    def record(self, tenant: str, kind: str, *, version: str, source: str, outcome: str, error_rate: float,
               measured: Optional[Mapping] = None) -> None:
        """``measured``: what else the verdict measured (the gate's dev-set error rate and its basis, the
        baseline it faced), kept in the history entry: the rolling baseline of later verdicts is made of it."""
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        data = self.read()
        entry = {**(measured or {}), "version": version, "source": source, "outcome": outcome,
                 "error_rate": error_rate, "at": dt.datetime.now(dt.timezone.utc).isoformat()}
        tenant_entries = data.setdefault(tenant, {})
        tenant_entries.setdefault(f"{kind}.history", []).append(entry)
        if outcome == "promoted":
            tenant_entries[kind] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(data, indent=2, sort_keys=True))
        scratch.replace(self.path)  # atomic: a service never reads half a file


def promoted_entry(content: Mapping, tenant: str, kind: str) -> Optional[dict]:
    """The promoted version of ``kind`` for ``tenant`` ({version, source, outcome, error_rate, at}), or None."""
    return (content.get(tenant) or {}).get(kind)


def refused_versions(content: Mapping, tenant: str, kind: str) -> frozenset[str]:
    """Names the gate refused for ``tenant``/``kind`` and has not promoted since (never to be served).

    A name refused and later promoted is not refused; the current promotion never is.
    """
    last_outcome: dict[str, str] = {}
    for entry in (content.get(tenant) or {}).get(f"{kind}.history", []):
        last_outcome[entry["version"]] = entry["outcome"]
    current = promoted_entry(content, tenant, kind)
    return frozenset(name for name, outcome in last_outcome.items()
                     if outcome == "refused" and not (current and current["version"] == name))
