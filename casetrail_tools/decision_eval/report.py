"""The terminal view of a decision evaluation: the summary, per locale and per category."""

from __future__ import annotations

from typing import Callable, Optional

COLUMNS = (
    ("tickets", "n", "{}"),
    ("category_accuracy", "cat acc", "{:.1%}"),
    ("autonomous_send_rate", "sent/routine", "{:.1%}"),
    ("autonomous_send_rate_answerable", "sent/answerable", "{:.1%}"),
    ("send_precision", "send prec", "{:.1%}"),
    ("escalation_recall", "esc recall", "{:.1%}"),
    ("human_sent", "human sent", "{}"),
    ("out_of_scope_recall", "oos recall", "{:.1%}"),
    ("confident_wrong", "conf-wrong", "{}"),
    ("locale_accuracy", "locale acc", "{:.1%}"),
    ("very_negative_accuracy", "v.neg acc", "{:.1%}"),
)


def _cell(value, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def render(summary: dict, echo: Callable[[str], None], *, categories: bool = True) -> None:
    echo(f"tenant {summary['tenant']} at {summary['at']}")
    for name, version in summary["versions"].items():
        echo(f"  {name:28} {version}")
    header = f"{'':22}" + "".join(f"{title:>16}" for _, title, _ in COLUMNS)
    groups: list[tuple[str, Optional[dict]]] = [("locale", None), *sorted(summary["by_locale"].items())]
    if categories:
        groups += [("category", None), *sorted(summary["by_category"].items())]
    groups += [("overall", summary["overall"])]
    echo(header)
    for name, figures in groups:
        if figures is None:
            echo(f"-- by {name}")
            continue
        echo(f"{name:22}" + "".join(f"{_cell(figures.get(key), fmt):>16}" for key, _, fmt in COLUMNS))
    overall = summary["overall"]
    echo(f"actions: {overall['actions']}")
    latency = summary.get("latency", {})
    if latency:
        echo("latency per ticket (ms, one core): " + ", ".join(
            f"{name[:-3]} p50 {figures['p50']}" for name, figures in latency.items() if figures))
