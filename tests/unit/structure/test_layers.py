"""The house's floor plan, checked: who may import whom.

- ``casetrail/`` is the production floor: it never imports a service, the tooling,
  or anything outside itself and third-party packages;
- a service never imports another service (they talk over topics only);
- a service's running code never imports its own ``offline/`` code (the image leaves it out);
- ``casetrail_tools`` may import anything; only offline code imports it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _imports(path: Path, *, executed_only: bool = False) -> set[str]:
    """Every absolute module name a file imports, at any depth (function-level imports included).

    ``executed_only`` leaves out ``if TYPE_CHECKING:`` blocks: those name a type for annotations and
    never run, so a worker annotated with the service that creates it is not an import circle.
    """
    tree = ast.parse(path.read_text(), str(path))
    if executed_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _python_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _offenders(files: list[Path], forbidden) -> list[str]:
    return [f"{path.relative_to(REPO)} imports {name}"
            for path in files for name in sorted(_imports(path)) if forbidden(path, name)]


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def test_the_runtime_floor_imports_no_service_and_no_tooling():
    offenders = _offenders(_python_files("casetrail"),
                           lambda path, name: _top(name) in {"services", "casetrail_tools", "tests"})
    assert offenders == []


def test_services_never_import_each_other():
    def forbidden(path: Path, name: str) -> bool:
        own = path.relative_to(REPO / "services").parts[0]
        parts = name.split(".")
        return parts[0] == "services" and len(parts) > 1 and parts[1] != own

    assert _offenders(_python_files("services"), forbidden) == []


def test_running_code_never_imports_offline_code():
    running = [p for p in _python_files("services") if "offline" not in p.parts]
    assert _offenders(running, lambda path, name: ".offline" in f".{name}" and name.startswith("services.")) == []


def test_nothing_that_runs_imports_the_tooling():
    # offline code (benchmarks, training) is tooling itself and may use it
    files = _python_files("casetrail") + [p for p in _python_files("services") if "offline" not in p.parts]
    assert _offenders(files, lambda path, name: _top(name) == "casetrail_tools") == []


def test_the_forbidden_import_is_detected(tmp_path):
    # The check must be able to fail: a function-level import of a service from the floor.
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from services.ingest.normalise import Normaliser\n")
    assert "services.ingest.normalise" in _imports(module)


def test_the_command_line_without_tooling_and_offline_code_offers_what_the_image_can_run():
    # As in the container image: casetrail_tools and services/*/offline are absent.
    hide = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'casetrail_tools' or name.startswith('casetrail_tools.') or '.offline' in name:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "sys.argv = ['casetrail', '--help']\n"
        "from casetrail.cli import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    commands = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 1}
    assert {"run", "topics", "kb", "audit", "ingest", "lineage"} <= commands
    assert not commands & {"broker", "bench", "up", "send", "tail", "triage"}


def _module_graph(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (at any depth). A module importing its own package
    (``from casetrail.runtime import ...`` inside ``casetrail/runtime/``) is left out: a package's
    ``__init__`` re-exporting its submodules is one idea, not a circle."""
    paths = {}
    for folder in folders:
        for path in _python_files(folder):
            parts = path.relative_to(REPO).with_suffix("").parts
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in paths.items():
        imported = set()
        for target in _imports(path, executed_only=True):
            # "from a.b import c" may name the module a.b.c
            for candidate in (target, *(f"{target}.{alias}" for alias in _imported_names(path, target))):
                if candidate in paths and candidate != name and not name.startswith(candidate + "."):
                    imported.add(candidate)
        graph[name] = imported
    return graph


def _imported_names(path: Path, module: str) -> set[str]:
    return {alias.name for node in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0 for alias in node.names}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle():
    assert _circles(_module_graph(("casetrail", "casetrail_tools", "services"))) == []


def test_an_import_circle_is_detected():
    # The circle this test was written for: audit's app -> cli (citation_checker) -> app (replay).
    graph = {"services.audit.app": {"services.audit.cli"}, "services.audit.cli": {"services.audit.app"},
             "services.audit.reports": set()}
    assert _circles(graph) == [["services.audit.app", "services.audit.cli"]]


MODULE_LINE_LIMIT = 400


def test_no_module_over_400_lines_without_a_reason_at_its_top():
    unexplained = []
    for folder in ("casetrail", "casetrail_tools", "services", "tests", "scripts"):
        for path in _python_files(folder):
            text = path.read_text()
            if text.count("\n") <= MODULE_LINE_LIMIT:
                continue
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if f"Over {MODULE_LINE_LIMIT} lines:" not in docstring:
                unexplained.append(f"{path.relative_to(REPO)} ({text.count(chr(10))} lines)")
    assert unexplained == [], "split them, or say why at the top: 'Over 400 lines: <reason>'"
