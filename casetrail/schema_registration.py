"""``casetrail schemas register``: every event topic's value subject in a Schema Registry, with its
whole released history, under a compatibility level that holds across all versions.

Services register their current schema on first use (``casetrail.codec``: TopicNameStrategy,
``<topic>-value``). Registering ahead of them, as a deployment step (the chart's pre-install /
pre-upgrade hook), adds what first use cannot:

* the compatibility level is set per subject (``FULL_TRANSITIVE`` by default: every version can
  read data written with every other, in both directions, so consumers and producers may roll in
  any order and the audit service can replay years of log);
* the released versions (``schemas/released/<Event>/v<N>.avsc``) are registered oldest first
  before the current schema, so the registry checks the current one against all of them;
* a change that breaks the level is refused by the registry *before* any pod runs it: the command
  exits 1 naming the subject, the version and the registry's reason.

One subject holds a weaker level, named with its reason in ``WEAKER_LEVELS`` (found by this
command: ``AgentFeedback`` v2 extended an enum that had no default).

The registry's own answer decides; nothing here re-implements Avro schema resolution. A registry
that does not keep the level it was given is reported as an error rather than trusted
(confluent-kafka's in-memory ``mock://`` client keeps no levels at all, so it cannot be used here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import typer

from casetrail.figures import json_option, write_figures

LEVELS = ("BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE")
DEFAULT_LEVEL = "FULL_TRANSITIVE"
# Event types whose released history does not hold the default level, each with the level it does
# hold and why. The drift test (tests/unit/foundation/test_schema_compatibility_levels.py) checks
# every other event's history against FULL_TRANSITIVE, so a new release cannot join this list unseen.
WEAKER_LEVELS: dict[str, tuple[str, str]] = {
    "AgentFeedback": ("BACKWARD_TRANSITIVE",
                      "v2 added the actions 'reassign' and 'escalate' to an enum that has no default in v1, so a "
                      "v1 reader cannot read them (new readers read every version)"),
}


class RegistrationError(RuntimeError):
    """The registry could not be used at all (unreachable, refused the level, did not keep it)."""


@dataclass(frozen=True)
class SubjectPlan:
    subject: str
    event: str
    versions: tuple[tuple[str, str], ...]  # (label, schema JSON) oldest first; the last is the current schema
    level: Optional[str] = None  # None: the level asked for; else the weaker one its history holds


def history(event: str) -> list[tuple[str, str]]:
    """``event``'s released schemas then the current one when it differs: (label, schema JSON), oldest first."""
    from casetrail.events.catalog import released_schemas, schema_of

    versions = [(label, json.dumps(schema)) for label, schema in released_schemas(event)]
    current = schema_of(event)
    if not versions or json.loads(versions[-1][1]) != current:
        versions.append(("current", json.dumps(current)))
    return versions


@dataclass
class SubjectResult:
    subject: str
    event: str
    level: str
    registered: list[dict] = field(default_factory=list)  # {"version": label, "id": schema id}
    refused: Optional[dict] = None  # {"version": label, "reason": the registry's message}

    def as_dict(self) -> dict:
        return {"subject": self.subject, "event": self.event, "compatibility": self.level,
                "registered": self.registered, "refused": self.refused}


def plans(prefix: Optional[str] = None) -> list[SubjectPlan]:
    """One subject per event topic (``<topic as deployed>-value``), its released schemas then the current one."""
    from casetrail.topic_admin import resolved_name
    from casetrail.topics import ALL_TOPICS

    return [SubjectPlan(f"{resolved_name(spec, prefix)}-value", spec.value_schema, tuple(history(spec.value_schema)),
                        WEAKER_LEVELS.get(spec.value_schema, (None, ""))[0])
            for spec in ALL_TOPICS if spec.value_schema]


def register_subjects(client, subject_plans: list[SubjectPlan], level: str = DEFAULT_LEVEL,
                      progress: Callable[[str], None] = lambda _: None) -> list[SubjectResult]:
    """Set ``level`` (or the subject's weaker one, ``WEAKER_LEVELS``) on each subject, check the registry kept
    it, then register its versions oldest first.

    ``client``: a ``confluent_kafka.schema_registry.SchemaRegistryClient``. A version the registry refuses
    (HTTP 409: incompatible under the level, 422: invalid) stops that subject, is recorded, and the
    other subjects go on. Anything else raises ``RegistrationError``."""
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    if level not in LEVELS:
        raise RegistrationError(f"compatibility {level!r} is not one of {', '.join(LEVELS)}")
    results = []
    for plan in subject_plans:
        level_here = plan.level or level
        try:
            client.set_compatibility(plan.subject, level_here)
            kept = client.get_compatibility(plan.subject)
        except SchemaRegistryError as exc:
            raise RegistrationError(f"{plan.subject}: the registry refused compatibility {level_here}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - connection errors come in several types
            raise RegistrationError(f"{plan.subject}: the registry cannot be reached: {exc}") from exc
        if kept != level_here:
            raise RegistrationError(f"{plan.subject}: the registry did not keep compatibility {level_here} (it answers "
                                    f"{kept!r}); it cannot be trusted to check versions")
        result = SubjectResult(plan.subject, plan.event, level_here)
        for label, schema in plan.versions:
            try:
                schema_id = client.register_schema(plan.subject, Schema(schema, "AVRO"))
            except SchemaRegistryError as exc:
                if exc.http_status_code in (409, 422):
                    result.refused = {"version": label, "reason": exc.error_message}
                    break
                raise RegistrationError(f"{plan.subject} {label}: {exc}") from exc
            result.registered.append({"version": label, "id": schema_id})
        progress(f"  {plan.subject:50} {level_here}  " + (
            f"REFUSED at {result.refused['version']}: {result.refused['reason']}" if result.refused
            else f"{len(result.registered)} version(s), ids {', '.join(str(r['id']) for r in result.registered)}"))
        results.append(result)
    return results


def register_command(
    url: Optional[str] = typer.Option(None, "--url", help="the Schema Registry (default: SCHEMA_REGISTRY_URL)"),
    compatibility: str = typer.Option(DEFAULT_LEVEL, "--compatibility", help=f"one of {', '.join(LEVELS)}"),
    json_path: Optional[Path] = json_option("also write each subject's level, versions and ids to PATH as JSON"),
) -> None:
    """Register every event topic's schema history under a compatibility level (exit 1 if one is refused)."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from casetrail.settings import settings

    config = settings()
    url = url or config.schema_registry_url
    if not url:
        typer.secho("schemas register: no registry (--url or SCHEMA_REGISTRY_URL)", fg="red", err=True)
        raise typer.Exit(2)
    client = SchemaRegistryClient.new_client({"url": url, **config.registry_config()})
    typer.echo(f"schemas register: {url} ({compatibility})")
    try:
        results = register_subjects(client, plans(config.topic_prefix), compatibility.upper(), progress=typer.echo)
    except RegistrationError as exc:
        typer.secho(f"schemas register: {exc}", fg="red", err=True)
        raise typer.Exit(2)
    refused = [r for r in results if r.refused]
    typer.echo(f"{len(results)} subject(s), {sum(len(r.registered) for r in results)} version(s) registered, "
               f"{len(refused)} refused")
    write_figures(json_path, {"url": url, "compatibility": compatibility.upper(),
                              "subjects": [r.as_dict() for r in results]})
    if refused:
        raise typer.Exit(1)


def register(commands) -> None:
    commands.group("schemas", help="Avro schemas of the events.").command("register")(register_command)
