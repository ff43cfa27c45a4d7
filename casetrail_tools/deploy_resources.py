"""Deployment resources generated from the code, so each has one source.

* ``deploy/helm/casetrail/files/topics.yaml`` — from ``casetrail/topics.py``; the chart
  renders a Strimzi ``KafkaTopic`` per entry.
* ``deploy/helm/casetrail/files/kafka-access.yaml`` — what each component reads and writes
  (``kafka_access``, from ``casetrail/topics.py``); the chart's KEDA triggers, replica caps and
  Strimzi ``KafkaUser`` ACLs follow it.
* The Grafana dashboard — from the panel list in ``dashboard.py``, written to ``deploy/grafana/`` and to the
  chart's ``files/dashboards/`` (the ConfigMap for Grafana's sidecar).
* The alert rules — hand-written in ``deploy/prometheus/casetrail-alerts.yaml`` (the source)
  and copied into the chart's ``files/`` for the ``PrometheusRule``.
* The panel list of ``deploy/README.md`` (``panels-md``), so the docs show the PromQL behind
  every panel.

``python -m casetrail_tools.deploy_resources write`` regenerates all of them;
``python -m casetrail_tools.deploy_resources check`` exits 1 naming every file that drifted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Optional

import yaml

from casetrail.topics import ALL_TOPICS, TopicSpec
from casetrail_tools.dashboard import dashboard_json, panels_markdown
from casetrail_tools.kafka_access import component_access, hook_job_access

REPO_ROOT = Path(__file__).resolve().parents[1]
DEPLOY = REPO_ROOT / "deploy"
CHART = DEPLOY / "helm" / "casetrail"
TOPICS_FILE = CHART / "files" / "topics.yaml"
ACCESS_FILE = CHART / "files" / "kafka-access.yaml"
ALERTS_SOURCE = DEPLOY / "prometheus" / "casetrail-alerts.yaml"
ALERTS_IN_CHART = CHART / "files" / "casetrail-alerts.yaml"
DASHBOARD_FILES = (DEPLOY / "grafana" / "casetrail.json", CHART / "files" / "dashboards" / "casetrail.json")


# -- topics ------------------------------------------------------------------------
def topic_entry(spec: TopicSpec) -> dict:
    return {
        "name": spec.name,
        "key": spec.key,
        "valueSchema": spec.value_schema,
        "partitions": spec.partitions,
        "replicas": spec.replication_factor,
        "config": dict(sorted(spec.config().items())),
    }


def topics_yaml(topics: Iterable[TopicSpec] = ALL_TOPICS) -> str:
    header = (
        "# GENERATED from casetrail/topics.py by `python -m casetrail_tools.deploy_resources write`.\n"
        "# Do not edit: change casetrail/topics.py and regenerate (tests/deploy checks they match).\n"
    )
    return header + yaml.safe_dump({"topics": [topic_entry(spec) for spec in topics]}, sort_keys=False)


def access_yaml() -> str:
    header = (
        "# GENERATED from casetrail/topics.py by `python -m casetrail_tools.deploy_resources write`\n"
        "# (casetrail_tools/kafka_access.py): per chart component, the topics it consumes in its group\n"
        "# (inputs), reads, writes, its consumer groups and transactional id prefix (without the topic prefix);\n"
        "# per hook job (jobs), what it writes.\n"
    )
    components = {name: access.entry() for name, access in component_access().items()}
    jobs = {name: access.entry() for name, access in hook_job_access().items()}
    return header + yaml.safe_dump({"components": components, "jobs": jobs}, sort_keys=False)


# -- write / check ------------------------------------------------------------------------
def expected_files() -> dict[Path, str]:
    files = {TOPICS_FILE: topics_yaml(), ACCESS_FILE: access_yaml(), ALERTS_IN_CHART: ALERTS_SOURCE.read_text()}
    for path in DASHBOARD_FILES:
        files[path] = dashboard_json()
    return files


def drifted() -> list[Path]:
    return [path for path, text in expected_files().items() if not path.exists() or path.read_text() != text]


def write() -> list[Path]:
    changed = drifted()
    for path, text in expected_files().items():
        if path in changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return changed


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    if command == "write":
        for path in write():
            print(f"wrote {path.relative_to(REPO_ROOT)}")
        return 0
    if command == "check":
        stale = drifted()
        for path in stale:
            print(f"out of date: {path.relative_to(REPO_ROOT)} (run: python -m casetrail_tools.deploy_resources write)")
        return 1 if stale else 0
    if command == "panels-md":
        print(panels_markdown(), end="")
        return 0
    print("usage: python -m casetrail_tools.deploy_resources [write|check|panels-md]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
