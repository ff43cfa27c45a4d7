"""Reading a service's YAML configuration file, with list entries added from an environment
variable (e.g. a Kubernetes Secret) and pydantic errors worded as ``path: problem; ...``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_yaml_config(path: Path, model: type[ModelT], error: type[Exception], *, list_key: str, list_env: str,
                     what: str = "configuration", overrides: dict | None = None) -> ModelT:
    """``model`` from ``path`` (missing: empty), ``list_env``'s JSON list appended to ``list_key``,
    then ``overrides``; every problem raises ``error`` naming the file and the entry."""
    data: dict = {}
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise error(f"{path}: not valid YAML: {exc}") from None
    extra = os.environ.get(list_env)
    if extra:
        try:
            data = {**data, list_key: list(data.get(list_key) or []) + json.loads(extra)}
        except json.JSONDecodeError as exc:
            raise error(f"{list_env} is not a JSON list: {exc}") from None
    data.update(overrides or {})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise error(f"{path}: invalid {what}: {problems}") from None
