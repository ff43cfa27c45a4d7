"""The command line (every service and tool starts through it) gives numpy one BLAS thread unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = ("import casetrail.cli, numpy, os, threadpoolctl; "
         "print(os.environ['OPENBLAS_NUM_THREADS'], "
         "[i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'])")


def _probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    return subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


def test_numpy_gets_one_blas_thread_by_default():
    assert _probe() == "1 [1]"


def test_an_operators_own_setting_wins():
    assert _probe(OPENBLAS_NUM_THREADS="2").startswith("2 ")
