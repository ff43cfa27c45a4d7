"""Configuration is typed: only settings modules read the environment.

Every ``os.environ`` / ``os.getenv`` (or ``from os import environ``) in ``casetrail/``, ``services/`` and
``casetrail_tools/`` sits in a module named ``settings.py`` (pydantic-settings classes, and the one
function per service that reads a variable whose *name* is configuration), or in a file of the
allow-list below, each with the reason it is not a setting. An entry that no longer reads the
environment fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGES = ("casetrail", "services", "casetrail_tools")
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}

ALLOWED: dict[str, str] = {
    "casetrail/cli.py":
        "a library convention, not a casetrail setting: OpenBLAS reads OPENBLAS_NUM_THREADS itself when numpy "
        "loads; the command line only gives it a default of 1 before that happens, and an operator's value wins",
    "casetrail/embeddings/native/__init__.py":
        "build and engine conventions, not casetrail settings: CC names the C compiler the build uses (make's "
        "convention), and E5_DISABLE_VNNI is read by the C engine itself — kernel() mirrors it to report "
        "which kernel runs",
    "casetrail_tools/process_group.py":
        "tooling: starts services as child processes with this environment plus the caller's additions",
    "casetrail_tools/demo.py":
        "tooling: runs `casetrail` commands as child processes with this environment plus the demo's settings",
    "casetrail_tools/pipeline_harness.py":
        "tooling: starts a broker, then sets KAFKA_BOOTSTRAP_SERVERS for its own clients and the service "
        "processes it starts, and passes each child its environment",
    "casetrail_tools/benchmarks/hop.py":
        "tooling: runs the relay service as a child process with this environment plus the benchmark's settings",
    "services/delivery/offline/benchmark.py":
        "offline benchmark: starts a broker, sets KAFKA_BOOTSTRAP_SERVERS for its own clients, and runs "
        "delivery as a child process with the benchmark's settings added to this environment",
}


def _reads_environment(path: Path) -> list[int]:
    """Line numbers where ``path`` touches the process environment through ``os``."""
    tree = ast.parse(path.read_text(), str(path))
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES
                and isinstance(node.value, ast.Name) and node.value.id == "os"):
            lines.append(node.lineno)
        elif (isinstance(node, ast.ImportFrom) and node.module == "os"
              and any(alias.name in ENVIRONMENT_NAMES for alias in node.names)):
            lines.append(node.lineno)
    return sorted(lines)


def _readers() -> dict[str, list[int]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            lines = _reads_environment(path)
            if lines:
                found[path.relative_to(REPO).as_posix()] = lines
    return found


def test_only_settings_modules_and_the_allow_list_read_the_environment():
    offenders = [f"{path}:{','.join(map(str, lines))}" for path, lines in _readers().items()
                 if Path(path).name != "settings.py" and path not in ALLOWED]
    assert offenders == [], ("read the variable through a settings class (casetrail/settings.py or the "
                             "service's settings.py), or add the file to ALLOWED with its reason")


def test_every_allow_list_entry_still_reads_the_environment():
    readers = _readers()
    assert [path for path in ALLOWED if path not in readers] == []
    assert all(reason.strip() for reason in ALLOWED.values())


def test_the_check_sees_every_way_of_reading_the_environment(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom os import getenv\nos.environ.get('A')\nos.getenv('B')\n"
                      "value = os.environ['C']\n# os.environ in a comment is not a read\n")
    assert _reads_environment(sample) == [2, 3, 4, 5]


def _settings_classes() -> list[type]:
    import importlib
    import inspect

    from pydantic_settings import BaseSettings

    names = ["casetrail.settings"] + sorted(
        p.relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
        for package in ("services", "casetrail_tools") for p in (REPO / package).rglob("settings.py"))
    classes = []
    for name in names:
        for cls in vars(importlib.import_module(name)).values():
            if inspect.isclass(cls) and cls.__module__ == name and issubclass(cls, BaseSettings):
                classes.append(cls)
    return classes


def test_the_readme_lists_every_setting():
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("### Tenant policy")]
    missing = sorted({variable for cls in _settings_classes() for field in cls.model_fields
                      for variable in cls.variable_names(field) if f"`{variable}`" not in table})
    assert missing == [], "add these variables (default, service, meaning) to README.md's configuration table"


def test_every_settings_class_derives_from_the_shared_base():
    """One pattern: a service's (or the tooling's) settings extend ``CasetrailSettings``, so every
    component built from them sees the shared fields and bad values are named the same way."""
    import importlib
    import inspect

    from pydantic_settings import BaseSettings

    from casetrail.settings import CasetrailSettings

    modules = sorted(p.relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
                     for package in ("services", "casetrail_tools") for p in (REPO / package).rglob("settings.py"))
    assert "services.triage.settings" in modules and "casetrail_tools.settings" in modules
    strays = []
    for name in modules:
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if (inspect.isclass(cls) and cls.__module__ == name and issubclass(cls, BaseSettings)
                    and not issubclass(cls, CasetrailSettings)):
                strays.append(f"{name}.{cls.__name__}")
    assert strays == []
    classes = [p for p in (REPO / "services").rglob("*.py") if "class " in p.read_text() and "(BaseSettings)" in p.read_text()]
    assert classes == [], "settings classes live in settings.py and derive from CasetrailSettings"
