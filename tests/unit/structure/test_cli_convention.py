"""One command-line convention (casetrail/figures.py), checked over the assembled ``casetrail`` command:
``--json`` takes a PATH where figures are written; only commands that show one record and write no
figures keep it as a flag that prints JSON; no other spelling of the figures option exists."""

from __future__ import annotations

import typer.main

from casetrail.cli import app

# Commands that print one record and measure nothing: their --json prints it as JSON.
RECORD_PRINTERS = {"casetrail lineage", "casetrail drafter draft"}


def _commands(command, path: str):
    # typer carries its own copy of click: groups and options are recognised by what they have
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def _json_options():
    for path, command in _commands(typer.main.get_command(app), "casetrail"):
        for param in command.params:
            if any(o.startswith("--json") for o in getattr(param, "opts", ())):
                yield path, param


def test_figure_commands_take_json_path_and_record_printers_a_flag():
    found = dict(_json_options())
    assert {"casetrail bench codec", "casetrail audit report", "casetrail kb eval", "casetrail triage eval",
            "casetrail bench audit", "casetrail verifier eval"} <= set(found)  # the check sees the commands
    wrong = []
    for path, param in found.items():
        if param.opts != ["--json"]:
            wrong.append(f"{path}: {param.opts}")
        elif path in RECORD_PRINTERS:
            if not param.is_flag or "writes no figures" not in (param.help or ""):
                wrong.append(f"{path}: --json should be a flag whose help says the command writes no figures")
        elif param.is_flag or param.metavar != "PATH":
            wrong.append(f"{path}: --json should take a PATH")
    assert wrong == []
