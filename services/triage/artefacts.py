"""Model artefacts as JSON metadata beside an ``.npz`` of arrays: loaded without
pickle (safe to read from anywhere) and versioned by a hash of their content."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np


def read_artefact(directory: Path, json_name: str, npz_name: str, what: str) -> tuple[dict, dict[str, np.ndarray]]:
    """(metadata, arrays) of the artefact in ``directory``; ``ValueError`` naming ``what`` (e.g. "an intent
    model") when unreadable."""
    directory = Path(directory)
    try:
        meta = json.loads((directory / json_name).read_text(encoding="utf-8"))
        with np.load(directory / npz_name, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{directory}: not {what} artefact ({exc})") from exc
    return meta, arrays


def content_version(directory: Path, json_name: str, npz_name: str, name: str) -> str:
    """``<name>@<first 12 hex of sha256(json + npz)>``: changes whenever the artefact does."""
    digest = hashlib.sha256()
    for file_name in (json_name, npz_name):
        digest.update((Path(directory) / file_name).read_bytes())
    return f"{name}@{digest.hexdigest()[:12]}"
