"""Reading a service's YAML configuration file, with list entries added from the service's settings
(e.g. a Kubernetes Secret's JSON list) and pydantic errors worded as ``path: problem; ...``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_yaml_config(path: Path, model: type[ModelT], error: type[Exception], *, list_key: str,
                     extra_entries: Sequence = (), what: str = "configuration", overrides: dict | None = None) -> ModelT:
    """``model`` from ``path`` (missing: empty), ``extra_entries`` (already validated by the settings)
    appended to ``list_key``, then ``overrides``; every problem raises ``error`` naming the file and the entry."""
    data: dict = {}
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise error(f"{path}: not valid YAML: {exc}") from None
    if extra_entries:
        data = {**data, list_key: list(data.get(list_key) or []) + list(extra_entries)}
    data.update(overrides or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise error(f"{path}: invalid {what}: {problems}") from None
