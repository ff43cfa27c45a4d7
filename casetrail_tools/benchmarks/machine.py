"""The facts of the machine a benchmark ran on, printed beside its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Optional

from casetrail.figures import print_figures, write_figures


def cpu_facts(cpuinfo: str) -> dict[str, str]:
    """The first processor's name, family/model and widest integer-dot-product SIMD from ``/proc/cpuinfo``.

    A virtual machine may name its CPU only "AMD EPYC": family 23 (Zen 1/2) and family 25 (Zen 3/4)
    behind that name embed a ticket 1.6x apart, so the figures need the family too."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break  # the first processor only
        name, _, value = line.partition(":")
        fields.setdefault(name.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    simd = next((name for name, flag in (("avx512_vnni", "avx512_vnni"), ("avx512", "avx512f"), ("avx_vnni", "avx_vnni"),
                                          ("avx2", "avx2")) if flag in flags), "none")
    facts = {"cpu": fields.get("model name", "unknown"), "simd": simd}
    if "cpu family" in fields:
        facts["cpu_id"] = f"{fields.get('vendor_id', '?')} family {fields['cpu family']} model {fields.get('model', '?')}"
    return facts


def machine_facts() -> dict[str, object]:
    cpu = {"cpu": platform.processor() or "unknown"}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = cpu_facts(info.read())
    except OSError:
        pass
    memory = "unknown"
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            kb = int(info.readline().split()[1])
            memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        **cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_1_5_15": load,  # other work on the machine while the figures were taken
    }


def print_bench(result: dict, json_path: Optional[Path]) -> None:
    """Print a benchmark's figures with the machine they ran on; write them to ``json_path`` too."""
    result = {**result, "machine": machine_facts()}
    print_figures(result)
    write_figures(json_path, result)
