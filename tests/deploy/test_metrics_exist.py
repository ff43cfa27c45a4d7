"""Every metric the dashboard and the alerts query is exported by the running code.

The registry is collected from the code itself: casetrail.runtime.metrics (shared by every
runtime service) and every services/<name>/metrics.py, imported the way the services import
them. Queries are parsed with a real PromQL parser, so a typo in a name, a missing
`_total` or `_bucket`, or a syntax error fails here rather than on an SRE's screen.
"""

from __future__ import annotations

import importlib
import json
import re

import pytest
import yaml
from prometheus_client import REGISTRY

from casetrail_tools import dashboard, deploy_resources
from tests.deploy.conftest import REPO

# Series Prometheus makes itself for every scrape target (not exported by any service).
PROMETHEUS_SERIES = {"up"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "enum": ("",),
    "unknown": ("",),
}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$window": "7d", "$tenant": ".*"}


def exported_metric_names() -> set[str]:
    importlib.import_module("casetrail.runtime.metrics")
    for module_file in sorted((REPO / "services").glob("*/metrics.py")):
        importlib.import_module(f"services.{module_file.parent.name}.metrics")
    names = set()
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
        names.update(sample.name for sample in family.samples)
    return names


def metric_names_in(expr: str) -> set[str]:
    import promql_parser  # installed by deploy/tools/install.sh (the `tools` fixture)

    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    found: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"selector without a metric name in {expr!r}"
            found.add(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(deploy_resources.ALERTS_SOURCE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for path in deploy_resources.DASHBOARD_FILES:
        queries += dashboard.dashboard_queries(json.loads(path.read_text()))
    return queries


@pytest.fixture(scope="module")
def exported(tools) -> set[str]:
    names = exported_metric_names()
    assert "casetrail_events_dead_lettered_total" in names and "casetrail_processing_seconds_bucket" in names
    return names


def test_dashboard_queries_use_exported_metrics(exported):
    queries = dashboard_queries()
    assert len(queries) >= 20
    missing = {}
    for title, expr in queries:
        unknown = metric_names_in(expr) - exported - PROMETHEUS_SERIES
        if unknown:
            missing[title] = sorted(unknown)
    assert not missing, f"dashboard panels query metrics no service exports: {missing}"


def test_alert_rules_use_exported_metrics(exported):
    missing = {}
    for rule in alert_rules():
        unknown = metric_names_in(rule["expr"]) - exported - PROMETHEUS_SERIES
        if unknown:
            missing[rule["alert"]] = sorted(unknown)
    assert not missing, f"alerts query metrics no service exports: {missing}"


def test_the_check_catches_an_unknown_metric(exported):
    assert metric_names_in('sum(rate(casetrail_events_dead_lettered[5m]))') - exported == {"casetrail_events_dead_lettered"}
    with pytest.raises(Exception):
        metric_names_in("sum(rate(casetrail_events_in_total[5m])")  # unbalanced parenthesis


def test_pending_panels_are_still_pending(exported):
    # When an owner adds one of these metrics, move its panel from PENDING into ROWS.
    for title, expr, _ in dashboard.PENDING:
        if "first_response" in expr:
            assert not metric_names_in(expr) <= exported, f"{title!r} can move into the dashboard now"


def test_alerts_are_well_formed():
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names))
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert {"summary", "description", "runbook"} <= set(rule["annotations"])
        assert rule["annotations"]["runbook"] == f"deploy/README.md#{rule['alert'].lower()}"
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"])
    required = {"CasetrailDeadLetterSpike", "CasetrailConsumerLagGrowing", "CasetrailSlaBreached",
                "CasetrailCitationCoverageBelow100", "CasetrailVerifierFailureRateJump", "CasetrailServiceDown"}
    assert required <= set(names)


def test_readme_has_a_runbook_entry_per_alert_and_every_panel_with_its_promql():
    readme = (REPO / "deploy" / "README.md").read_text()
    for rule in alert_rules():
        section = re.search(rf"^### {rule['alert']}\n(.*?)(?=^#{{2,3}} |\Z)", readme, re.S | re.M)
        assert section, f"deploy/README.md has no '### {rule['alert']}' runbook entry"
        for part in ("**Means**", "**Confirm**", "**Do**"):
            assert part in section.group(1), f"runbook of {rule['alert']} lacks {part}"
    assert deploy_resources.panels_markdown() in readme, (
        "deploy/README.md's panel list is stale: paste `python -m casetrail_tools.deploy_resources panels-md`")
