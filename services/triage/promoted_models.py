"""Which intent model triages each tenant's tickets: the one the gate promoted, else the default.

``casetrail gate --kind intent_model --candidate NAME`` records a promotion in
the promotions file (``casetrail.promotions``) with the model's folder as its
``source``. Triage reads that file once at start-up: ``intent_model_choices``
(pure) says which folder each tenant uses, ``load_promoted_models`` loads every
promoted folder before the first ticket. A promoted model that cannot be used
(folder missing or unreadable) stops start-up with the tenant and version in
the message: triaging some tenants with a model nobody evaluated, or not at
all, would be worse than a service that does not start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional

from casetrail.promotions import promoted_entry
from services.triage.intent_model import IntentModel

KIND = "intent_model"


class PromotedModelError(ValueError):
    """A promoted intent model triage cannot use; the message names the tenant and the version."""


@dataclass(frozen=True)
class IntentModelChoice:
    directory: Path
    #: the promoted version's name (``gate --candidate``); None: no promotion, the default model
    promoted: Optional[str] = None


@dataclass(frozen=True)
class PromotedIntentModel:
    promoted: str
    model: IntentModel


def intent_model_choices(promotions: Mapping, tenants: Iterable[str], default: Path) -> dict[str, IntentModelChoice]:
    """Per tenant, the intent model folder to load: the promoted ``source`` when there is one."""
    choices: dict[str, IntentModelChoice] = {}
    for tenant in tenants:
        entry = promoted_entry(promotions, tenant, KIND)
        choices[tenant] = (IntentModelChoice(Path(entry["source"]), entry["version"]) if entry
                           else IntentModelChoice(Path(default)))
    return choices


def load_promoted_models(choices: Mapping[str, IntentModelChoice],
                         load: Callable[[Path], IntentModel] = IntentModel.load) -> dict[str, PromotedIntentModel]:
    """The promoted tenants' models, each folder loaded once; ``PromotedModelError`` when one cannot be."""
    loaded: dict[Path, IntentModel] = {}
    promoted: dict[str, PromotedIntentModel] = {}
    for tenant, choice in sorted(choices.items()):
        if choice.promoted is None:
            continue
        if choice.directory not in loaded:
            if not choice.directory.is_dir():
                raise PromotedModelError(f"tenant {tenant}: the promoted intent model {choice.promoted} has no "
                                         f"folder at {choice.directory}")
            try:
                loaded[choice.directory] = load(choice.directory)
            except ValueError as exc:
                raise PromotedModelError(f"tenant {tenant}: the promoted intent model {choice.promoted} "
                                         f"cannot be loaded: {exc}") from exc
        promoted[tenant] = PromotedIntentModel(choice.promoted, loaded[choice.directory])
    return promoted
