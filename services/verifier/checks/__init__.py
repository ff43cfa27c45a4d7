"""The verifier's checks, one module per family, and the registry naming them.

Every check looks at one ``DraftUnderReview`` and returns an ``Outcome``. Its
``severity`` says what a failure means: ``failed`` (the draft is wrong and must
not go out) or ``needs_human`` (the draft may be fine, but the tenant's policy
says a person decides). Tenant configuration enables checks by these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol, Sequence

from services.verifier.review import DraftUnderReview

FAILED = "failed"
NEEDS_HUMAN = "needs_human"

# resolve(tenant, locale, clause_id, kb_version) -> Clause | None (casetrail.knowledge.resolve)
Resolver = Callable[[str, str, str, str], Optional[Any]]
# detect(text, locale=None, known_names=()) -> list[PiiFinding(kind, start, end)] (casetrail.privacy.pii.detect)
PiiDetector = Callable[..., Sequence[Any]]


@dataclass(frozen=True)
class Outcome:
    passed: bool
    detail: str = ""
    severity: Optional[str] = None  # overrides the check's own severity for this outcome


class Check(Protocol):
    name: str
    severity: str

    def run(self, review: DraftUnderReview) -> Outcome: ...


@dataclass(frozen=True)
class CheckDependencies:
    """Collaborators injected into checks (real ones in the service, fakes in unit tests)."""

    resolver: Optional[Resolver] = None
    pii_detector: Optional[PiiDetector] = None
    language_identifier: Optional[Callable[[str], list[tuple[str, float]]]] = None


def _registry() -> dict[str, Callable[..., Check]]:
    from services.verifier.checks.citations import CitationsResolve
    from services.verifier.checks.confidence import ConfidenceThreshold
    from services.verifier.checks.disclosure import AiDisclosure
    from services.verifier.checks.grants import GrantsSupported
    from services.verifier.checks.injection import InjectionEcho
    from services.verifier.checks.language import ReplyLanguage
    from services.verifier.checks.personal_data import PersonalData
    from services.verifier.checks.policy_rules import (
        AlwaysHumanCategory,
        AutonomyExcludedCustomer,
        RefundEligibility,
        TenantRules,
    )
    from services.verifier.checks.statements import StatementsSupported

    classes = (CitationsResolve, StatementsSupported, GrantsSupported, ConfidenceThreshold, AlwaysHumanCategory,
               AutonomyExcludedCustomer, RefundEligibility, TenantRules, PersonalData, InjectionEcho, AiDisclosure,
               ReplyLanguage)
    return {cls.name: cls for cls in classes}


CHECK_NAMES: tuple[str, ...] = (
    "citations_resolve", "statements_supported", "grants_supported", "confidence_threshold", "always_human_category",
    "autonomy_excluded_customer", "refund_eligibility", "tenant_rules", "personal_data", "injection_echo",
    "ai_disclosure", "reply_language",
)


def check_classes() -> dict[str, Callable[..., Check]]:
    registry = _registry()
    assert tuple(registry) == CHECK_NAMES, "CHECK_NAMES and the registry disagree"
    return registry
