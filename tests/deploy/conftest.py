"""Shared fixtures of the deployment checks: tools installed by deploy/tools/install.sh,
and `helm template` renders of the chart for each values file under ci/."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "casetrail"
CI_VALUES = CHART / "ci"
INSTALL = REPO / "deploy" / "tools" / "install.sh"
VALUES_FILES = ("minimal-values.yaml", "full-values.yaml", "mtls-values.yaml")
KUBERNETES_VERSION = "1.31.0"  # the oldest Kubernetes the chart is rendered and validated for


@dataclass(frozen=True)
class Tools:
    helm: Path
    hadolint: Path


@pytest.fixture(scope="session")
def tools() -> Tools:
    """Run the project's installer (idempotent; cached after the first run) and return the tools."""
    result = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        pytest.fail(f"deploy/tools/install.sh failed ({result.returncode}):\n{result.stderr[-4000:]}")
    paths = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    found = Tools(helm=Path(paths["helm"]), hadolint=Path(paths["hadolint"]))
    for tool in (found.helm, found.hadolint):
        assert tool.is_file(), f"{tool} missing after install.sh"
    return found


def helm(tools: Tools, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(tools.helm), *args], capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def render(tools: Tools, *values_files: str, set_values: tuple[str, ...] = ()) -> list[dict]:
    args = ["template", "ct", str(CHART), "--namespace", "casetrail", "--kube-version", KUBERNETES_VERSION]
    for name in values_files:
        args += ["-f", str(CI_VALUES / name)]
    for item in set_values:
        args += ["--set", item]
    out = helm(tools, *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="session")
def rendered(tools: Tools) -> dict[str, list[dict]]:
    """values file name -> the rendered manifests."""
    return {name: render(tools, name) for name in VALUES_FILES}
