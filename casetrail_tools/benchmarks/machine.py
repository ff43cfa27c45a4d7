"""The facts of the machine a benchmark ran on, printed beside its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Optional

from casetrail.figures import print_figures, write_figures


def machine_facts() -> dict[str, object]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
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
        "cpu": cpu,
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
