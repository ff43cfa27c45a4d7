"""The image recipe: hadolint-clean, multi-stage, non-root, no build tools at run time."""

from __future__ import annotations

import re
import subprocess

from tests.deploy.conftest import REPO


def stages(text: str) -> list[list[str]]:
    """Instructions (joined continuation lines, comments dropped) per FROM stage."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        current += " " + stripped.rstrip("\\").strip() if current else stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            lines.append(current)
            current = ""
    result: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(line)
    return result


def test_hadolint_passes(tools):
    result = subprocess.run([str(tools.hadolint), "--no-color", str(REPO / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"hadolint findings:\n{result.stdout}{result.stderr}"


def test_hadolint_catches_a_bad_dockerfile(tools, tmp_path):
    # The linter must be able to fail: a root image with an unpinned, cache-keeping apt install.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nCMD python app.py\n")
    result = subprocess.run([str(tools.hadolint), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


def test_final_stage_is_non_root_and_has_no_build_tools():
    every = stages((REPO / "Dockerfile").read_text())
    build, runtime = every[0], every[-1]  # the last stage is the default target: the service image
    assert any("build-essential" in line for line in build)
    text = "\n".join(runtime)
    for tool in ("build-essential", "gcc", "apt-get install", "pip install"):
        assert tool not in text, f"{tool!r} in the runtime stage"
    user = [line for line in runtime if line.upper().startswith("USER ")]
    assert user and re.fullmatch(r"USER [1-9]\d*(:[1-9]\d*)?", user[-1]), f"runtime USER must be a numeric non-root uid: {user}"
    assert any(line.startswith('ENTRYPOINT ["casetrail"]') for line in runtime)
    copies = [line for line in runtime if line.upper().startswith("COPY ")]
    assert copies and all("--from=build" in line for line in copies), "runtime stage copies only from the build stage"


def test_image_contains_what_the_services_read():
    build = stages((REPO / "Dockerfile").read_text())[0]
    copied = {line.split()[1] for line in build if line.upper().startswith("COPY ")}
    # schemas (Avro), tenant policy, knowledge base sources, code with its package data, lock file
    for needed in ("schemas", "config", "knowledge", "casetrail", "services", "requirements.lock"):
        assert needed in copied, f"{needed} is not copied into the image"
        assert (REPO / needed).exists()


def test_dockerignore_keeps_local_state_out():
    rules = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "**", "the context starts empty and re-includes what the image needs"
    included = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    build = stages((REPO / "Dockerfile").read_text())[0]
    for line in build:
        if line.upper().startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert source.rstrip("/") in included, f"COPY {source} is excluded by .dockerignore"
    for secret_or_state in ("**/.env", "**/var", "**/*.sqlite"):
        assert secret_or_state in rules
