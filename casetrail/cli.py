"""The ``casetrail`` command: one command line, assembled from what is installed.

This module holds only what every installation needs: ``run <service>`` and
``topics``. Everything else is contributed through Python entry points, so the
container image, which leaves development tooling and each service's offline
code out, offers exactly the commands it can run:

* ``casetrail.services`` — ``name = "package.module:attribute"``, the service
  object whose ``run()`` starts it (``casetrail run <name>``);
* ``casetrail.commands`` — ``name = "package.module:register"``, a function
  called with the ``Commands`` below to add commands and groups.

An entry point whose module is not installed is skipped; any other import error
is raised, so a broken module never hides behind a missing command.
"""

from __future__ import annotations

import os

# One BLAS thread per process, set before numpy is first imported (an operator's own value wins).
# Each service handles one record at a time and scales by processes; with the sample knowledge
# base's ~1,570 points per locale, OpenBLAS threads the retrieval's matrix-vector product over
# every core and its threads then spin between calls, which doubled the CPU a ticket costs the
# decision chain (23 -> 46 ms, docs/benchmarks.md) and takes cores from the other services.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from importlib import import_module
from importlib.metadata import EntryPoint, entry_points

import typer

app = typer.Typer(help="casetrail: customer-support automation with a citation on every draft.", no_args_is_help=True)
topics_app = typer.Typer(help="Topics as code (casetrail/topics.py).", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


class Commands:
    """What a ``casetrail.commands`` entry point is given: the root app and shared groups by name."""

    def __init__(self, root: typer.Typer):
        self.root = root
        self._groups: dict[str, typer.Typer] = {}

    def group(self, name: str, help: str | None = None) -> typer.Typer:
        """The group ``casetrail <name>``; made on first use, shared by every contributor."""
        group = self._groups.get(name)
        if group is None:
            group = self._groups[name] = typer.Typer(help=help, no_args_is_help=True)
            self.root.add_typer(group, name=name)
        elif help and not group.info.help:
            group.info.help = help
        return group

    def merge(self, name: str, source: typer.Typer) -> None:
        """Add every command and sub-group of ``source`` to the group ``name``."""
        target = self.group(name, source.info.help)
        target.registered_commands.extend(source.registered_commands)
        target.registered_groups.extend(source.registered_groups)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _installed(entry: EntryPoint):
    """The entry point's object, or None when its module is not part of this installation."""
    try:
        return entry.load()
    except ModuleNotFoundError as exc:
        if exc.name and entry.module.startswith(exc.name):
            return None
        raise


def service_entry_points() -> dict[str, EntryPoint]:
    """Installed services by name, in the order of the flow (pyproject.toml order)."""
    return {entry.name: entry for entry in entry_points(group="casetrail.services")}


def installed_services() -> list[str]:
    return [name for name, entry in service_entry_points().items()
            if _module_exists(entry.module)]


def _module_exists(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@app.command("run")
def run(service: str = typer.Argument(..., help="the service to run (see `casetrail run --help`)")) -> None:
    """Run one service until SIGTERM/Ctrl-C."""
    entry = service_entry_points().get(service)
    svc = _installed(entry) if entry is not None else None
    if svc is None:
        _fail(f"unknown service {service!r}; installed: {', '.join(installed_services()) or 'none'}")
    svc.run()


@topics_app.command("apply")
def topics_apply() -> None:
    """Create missing topics and report drift, idempotently."""
    from casetrail.topic_admin import apply_topics

    report = apply_topics()
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"{len(report.created)} created, {len(report.unchanged)} unchanged, {len(report.drift)} drifted")
    if report.drift:
        raise typer.Exit(2)


@topics_app.command("list")
def topics_list() -> None:
    """Print the topics file: name, key, schema, partitions, retention, cleanup; then the flow."""
    from casetrail.topics import ALL_TOPICS, EVENT_TOPICS

    for spec in ALL_TOPICS:
        retention = "forever" if spec.retention_ms < 0 else f"{spec.retention_ms / 86_400_000:g}d"
        typer.echo(
            f"{spec.name:45} key={spec.key:20} schema={spec.value_schema or '-':22} "
            f"partitions={spec.partitions} rf={spec.replication_factor} retention={retention} cleanup={spec.cleanup_policy}"
        )
    typer.echo("\nflow (producer -> topic -> consumers; audit reads every event topic):")
    for spec in EVENT_TOPICS:
        readers = spec.consumers + tuple(f"{name} (every worker)" for name in spec.broadcast_to)
        typer.echo(f"  {spec.producer:>50} -> {spec.name:28} -> {', '.join(readers) or '(audit only)'}")


def _register_contributed_commands() -> None:
    commands = Commands(app)
    for entry in entry_points(group="casetrail.commands"):
        register = _installed(entry)
        if register is not None:
            register(commands)


_register_contributed_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
