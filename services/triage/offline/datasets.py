"""Readers for labelled intent data: our CSV (``text,label``), BANKING77 and CLINC150.

CLINC150 (``data_full*.json``): the training file has ``train``, ``val``,
``oos_train``, ``oos_val``; the held-back test file has ``test`` and
``oos_test``. Out-of-scope items carry the intent ``oos``, mapped to
``out_of_scope``. Which split is used for what is decided in ``clinc150_splits``
and documented in services/triage/README.md.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from services.triage.intent_model import normalise_label


@dataclass
class Labelled:
    texts: list[str]
    labels: list[str]
    languages: list[str] | None = None  # from an optional ``language`` column

    def __len__(self) -> int:
        return len(self.texts)

    def __add__(self, other: "Labelled") -> "Labelled":
        return Labelled(self.texts + other.texts, self.labels + other.labels)

    def select(self, keep) -> "Labelled":
        ids = [i for i in range(len(self.texts)) if keep(i)]
        return Labelled([self.texts[i] for i in ids], [self.labels[i] for i in ids],
                        [self.languages[i] for i in ids] if self.languages else None)


class DatasetError(ValueError):
    """The file is not in the expected format; the message says what was expected."""


def read_csv(path: Path) -> Labelled:
    """``text,label`` (header required; BANKING77's ``text,category`` is accepted too)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            label_field = next((f for f in ("label", "category", "intent") if f in fields), None)
            if "text" not in fields or label_field is None:
                raise DatasetError(f"{path}: needs a header with 'text' and 'label' columns, found {fields}")
            texts, labels, languages = [], [], []
            for line, row in enumerate(reader, start=2):
                text, label = (row.get("text") or "").strip(), (row.get(label_field) or "").strip()
                if not text or not label:
                    raise DatasetError(f"{path}:{line}: empty text or label")
                texts.append(text)
                labels.append(normalise_label(label))
                languages.append((row.get("language") or "").strip())
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    if not texts:
        raise DatasetError(f"{path}: no examples")
    return Labelled(texts, labels, languages if any(languages) else None)


def read_clinc150(path: Path) -> dict[str, Labelled]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a CLINC150 json file: {exc}") from exc
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: expected an object with keys like train/val/test/oos_train/oos_val/oos_test")
    splits = {}
    for key, items in raw.items():
        try:
            splits[key] = Labelled([str(t) for t, _ in items], [normalise_label(str(l)) for _, l in items])
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: split {key!r} is not a list of [text, intent] pairs") from exc
    return splits


def clinc150_splits(train_path: Path, test_path: Path) -> tuple[Labelled, Labelled, str]:
    """(training data, test data, description) for CLINC150.

    - Test file with ``test``/``oos_test`` (the held-back file): test on those;
      train on ``train`` + ``val`` + ``oos_train`` + ``oos_val`` of the training file
      (every labelled example we have; calibration uses k-fold inside training).
    - Otherwise (tuning, the test file is the train/val file): train on
      ``train`` + ``oos_train``, test on ``val`` + ``oos_val``.
    """
    train_raw = read_clinc150(train_path)
    test_raw = read_clinc150(test_path)
    if "test" in test_raw:
        keys = [k for k in ("train", "val", "oos_train", "oos_val") if k in train_raw]
        test = test_raw["test"] + test_raw.get("oos_test", Labelled([], []))
        how = "train on " + "+".join(keys) + "; test on test+oos_test"
    elif "val" in test_raw:
        keys = [k for k in ("train", "oos_train") if k in train_raw]
        test = test_raw["val"] + test_raw.get("oos_val", Labelled([], []))
        how = "train on " + "+".join(keys) + "; test on val+oos_val"
    else:
        raise DatasetError(f"{test_path}: has neither 'test' nor 'val' split (keys: {sorted(test_raw)})")
    if not keys or "train" not in keys:
        raise DatasetError(f"{train_path}: has no 'train' split (keys: {sorted(train_raw)})")
    train = Labelled([], [])
    for key in keys:
        train = train + train_raw[key]
    return train, test, how


def split_holdout(data: Labelled, test_fraction: float = 0.2, seed: int = 7) -> tuple[Labelled, Labelled]:
    """Stratified hold-out (used to tune on BANKING77, which ships only train.csv)."""
    from sklearn.model_selection import train_test_split

    idx = list(range(len(data)))
    fit_idx, test_idx = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=data.labels)
    pick = lambda ids: Labelled([data.texts[i] for i in ids], [data.labels[i] for i in ids])  # noqa: E731
    return pick(fit_idx), pick(test_idx)
