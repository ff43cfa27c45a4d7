"""Converter: ABCD's agent guidelines (``guidelines.json``, MIT, ASAPP Research) -> a casetrail KB.

ABCD (Chen et al., NAACL 2021) ships the guidelines of a fictional online
clothing store as JSON: flows (``Product Defect``) with subflows (``Initiate
Refund``), each with instructions and agent actions. Each flow becomes one
Markdown file and each subflow one clause ``<flow>.<subflow>`` (e.g.
``product_defect.initiate_refund``); a subflow's text is its instructions
followed by its actions and their details. It proves the publisher on a
corpus nobody here wrote.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

LICENSE_NOTE = (
    "Converted from the Action-Based Conversations Dataset (ABCD) agent guidelines, "
    "Copyright (c) 2021 ASAPP Research, MIT License (https://github.com/asappresearch/abcd)."
)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def convert(guidelines: Path, out_dir: Path, tenant: str = "abcd-clothing", locale: str = "en") -> Path:
    """Write ``<out_dir>/<tenant>/<locale>/<flow>.md``; returns the tenant folder (publish that)."""
    data = json.loads(Path(guidelines).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{guidelines}: expected a JSON object of flows")
    target = Path(out_dir) / tenant / locale
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.md"):
        old.unlink()
    for flow_name, flow in data.items():
        flow_id = slug(flow_name)
        lines = ["---", f"source: {json.dumps(LICENSE_NOTE)}", "---",
                 f"# {flow_name}", "", _clean(flow.get("description", "")).capitalize(), ""]
        for sub_name, sub in (flow.get("subflows") or {}).items():
            lines += [f"## {sub_name} {{#{flow_id}.{slug(sub_name)}}}"]
            for instruction in sub.get("instructions") or []:
                lines.append(_clean(instruction))
            for number, action in enumerate(sub.get("actions") or [], start=1):
                button = _clean(action.get("button", ""))
                prefix = f"{number}. " + (f"**{button}**: " if button and button != "N/A" else "")
                lines.append(prefix + _clean(action.get("text", "")))
                for detail in action.get("subtext") or []:
                    lines.append(f"   - {_clean(detail)}")
            lines.append("")
        (target / f"{flow_id}.md").write_text("\n".join(lines), encoding="utf-8")
    (target.parent / "NOTICE").write_text(LICENSE_NOTE + "\n", encoding="utf-8")
    return target.parent
