"""One validated configuration per tenant.

The shape follows the worked examples in the design's sources: categories
with confidence thresholds and modes, SLA per customer tier and priority,
routing rules with conditions, business hours, VIP criteria, locales, refund
policy. Invalid configuration is refused at start-up with a message that
names the offending entry (``PolicyError``); conditions are CEL
(``casetrail.policy.expressions``), never ``eval``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import cached_property
from pathlib import Path
from typing import Literal, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from casetrail.policy.durations import parse_duration
from casetrail.policy.expressions import Condition, ExpressionError, compile_condition
from casetrail.policy.taxonomy import DEFAULT_CATEGORIES, SUPPORTED_LOCALES

Mode = Literal["shadow", "assist", "autonomous"]
Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")

# Fields a routing rule may read (see casetrail.policy docs in README).
ROUTING_FIELDS = (
    "category", "intent", "intent_confidence", "sentiment", "frustration", "vip", "churn_risk",
    "urgency", "priority", "locale", "language", "spam", "abuse", "attempts", "contacts_in_window",
    "customer.tier", "customer.lifetime_value", "customer.region", "customer.*", "severity",
    "waiting_minutes", "sla_state", "verdict", "draft_confidence", "out_of_scope", "duplicate", "flags",
)
VIP_FIELDS = ("customer.tier", "customer.lifetime_value", "customer.region", "customer.*")


class PolicyError(ValueError):
    """The tenant configuration is invalid; the message names the entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CategoryPolicy(_Strict):
    threshold: float = Field(ge=0.0, le=1.0, description="minimum calibrated confidence for autonomy")
    mode: Mode = "assist"
    always_human: bool = False  # fraud, disputes, legal, account takeover
    keywords: list[str] = Field(default_factory=list)


class OpeningHours(_Strict):
    """``{mon: "09:00-17:00", sat: "10:00-14:00", sun: closed}``."""

    timezone: str = "UTC"
    schedule: dict[str, str] = Field(default_factory=dict)
    holidays_country: Optional[str] = None  # ISO country for the ``holidays`` package

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, schedule: dict[str, str]) -> dict[str, str]:
        for day, hours in schedule.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            if hours != "closed" and not _HOURS.match(hours):
                raise ValueError(f"{day}: hours {hours!r} are not 'HH:MM-HH:MM' or 'closed'")
        return schedule

    def hours_on(self, weekday: int) -> Optional[tuple[dt.time, dt.time]]:
        hours = self.schedule.get(WEEKDAYS[weekday], "closed")
        if hours == "closed":
            return None
        h1, m1, h2, m2 = map(int, _HOURS.match(hours).groups())
        return dt.time(h1, m1), (dt.time(23, 59, 59) if (h2, m2) == (24, 0) else dt.time(h2, m2))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SlaPolicy(_Strict):
    """Response-time targets by customer tier, then priority (``default`` tier required)."""

    targets: dict[str, dict[str, str]]
    business_hours_only: bool = True
    at_risk_fraction: float = Field(default=0.75, gt=0.0, lt=1.0)

    @field_validator("targets")
    @classmethod
    def _valid_targets(cls, targets: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if "default" not in targets:
            raise ValueError("targets needs a 'default' tier")
        for tier, by_priority in targets.items():
            for priority, duration in by_priority.items():
                if priority not in PRIORITIES:
                    raise ValueError(f"targets.{tier}.{priority}: unknown priority; use {', '.join(PRIORITIES)}")
                try:
                    parse_duration(duration)
                except ValueError as exc:
                    raise ValueError(f"targets.{tier}.{priority}: {exc}") from exc
        return targets

    def target(self, tier: Optional[str], priority: str) -> tuple[str, dt.timedelta]:
        """(policy label, duration) for a tier and priority, falling back to the default tier."""
        for candidate in (tier or "default", "default"):
            by_priority = self.targets.get(candidate, {})
            if priority in by_priority:
                return f"{candidate}/{priority}", parse_duration(by_priority[priority])
        # The default tier must name every priority it is asked for; fall back to its slowest.
        label, slowest = max(self.targets["default"].items(), key=lambda kv: parse_duration(kv[1]))
        return f"default/{label}", parse_duration(slowest)


class VipPolicy(_Strict):
    criteria: list[str] = Field(default_factory=list)  # CEL, any one makes a VIP
    priority: Priority = "high"


class RefundPolicy(_Strict):
    window_days: int = Field(default=30, ge=0)
    auto_approval_limit: float = Field(default=50.0, ge=0)
    currency: str = "EUR"


class RoutingRule(_Strict):
    name: str
    condition: str  # CEL over ROUTING_FIELDS
    queue: str
    priority: Priority = "normal"
    never_autonomous: bool = False
    immediate: bool = False  # page the queue now, even outside its hours
    # False: the rule only picks queue/priority for whoever handles the case;
    # autonomy stays possible unless ``never_autonomous``. True: a human handles it.
    escalate: bool = True
    next_actions: list[str] = Field(default_factory=list)  # suggestions for the handoff brief


# The verifier's check names (services/verifier/checks registers one class per name).
VERIFIER_CHECKS: tuple[str, ...] = (
    "citations_resolve", "statements_supported", "grants_supported", "confidence_threshold", "always_human_category",
    "autonomy_excluded_customer", "refund_eligibility", "tenant_rules", "personal_data", "injection_echo",
    "ai_disclosure", "reply_language",
)
# Fields a verifier rule may read.
VERIFIER_RULE_FIELDS = (
    "category", "intent", "intent_confidence", "draft_confidence", "locale", "channel", "composer", "citations",
    "refund_amount", "vip", "sentiment", "frustration", "out_of_scope", "locale_fallback",
    "customer.tier", "customer.lifetime_value", "customer.region", "customer.*",
)


class VerifierRule(_Strict):
    """A tenant rule the verifier applies: when ``condition`` holds, the draft gets ``verdict``."""

    name: str
    condition: str  # CEL over VERIFIER_RULE_FIELDS
    verdict: Literal["failed", "needs_human"] = "needs_human"
    description: str = ""


class VerifierPolicy(_Strict):
    """Which verifier checks run for the tenant, and the tenant's own verifier rules."""

    checks: Optional[list[str]] = None  # None: every check in VERIFIER_CHECKS
    rules: list[VerifierRule] = Field(default_factory=list)
    injection_patterns: list[str] = Field(default_factory=list)  # extra regular expressions
    language_sentence_confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    refund_date_attributes: list[str] = Field(
        default_factory=lambda: ["delivered_at", "delivery_date", "order_date", "purchased_at"]
    )  # customer attributes (ISO dates) the refund window counts from, first present wins
    # names the tenant signs with or publishes (brand, team names): not personal data in a reply;
    # the tenant id spelt with spaces ("acme-shop" -> "Acme Shop") always counts as one
    public_names: list[str] = Field(default_factory=list)

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, checks: Optional[list[str]]) -> Optional[list[str]]:
        for i, name in enumerate(checks or []):
            if name not in VERIFIER_CHECKS:
                raise ValueError(f"checks[{i}]: unknown check {name!r}; known: {', '.join(VERIFIER_CHECKS)}")
        return checks

    @field_validator("injection_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"injection_patterns[{i}]: not a regular expression: {pattern!r}: {exc}") from exc
        return patterns

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, rules: list[VerifierRule]) -> list[VerifierRule]:
        names = [rule.name for rule in rules]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"rules: duplicate rule names {sorted(duplicates)}")
        return rules

    @property
    def enabled_checks(self) -> tuple[str, ...]:
        return tuple(self.checks) if self.checks is not None else VERIFIER_CHECKS


class Team(_Strict):
    name: str
    categories: list[str] = Field(default_factory=list)  # empty: every category
    locales: list[str] = Field(default_factory=list)  # empty: every locale
    hours: Optional[OpeningHours] = None  # None: the tenant's business hours


class TenantPolicy(_Strict):
    tenant: str
    policy_version: str
    locales: list[str] = Field(default_factory=lambda: list(SUPPORTED_LOCALES))
    default_locale: str = "en"
    kb_locale_fallback: list[str] = Field(default_factory=list)  # locales drafts may fall back to
    business_hours: OpeningHours = Field(default_factory=OpeningHours)
    categories: dict[str, CategoryPolicy]
    sla: SlaPolicy
    vip: VipPolicy = Field(default_factory=VipPolicy)
    sentiment_escalation_below: float = Field(default=-0.6, ge=-1.0, le=1.0)
    refunds: RefundPolicy = Field(default_factory=RefundPolicy)
    autonomy_excluded_customers: list[str] = Field(default_factory=list)
    allowed_placeholders: list[str] = Field(default_factory=lambda: ["EMAIL", "PHONE", "NAME", "ORDER"])
    routing: list[RoutingRule] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    default_queue: str = "general-support"
    recontact_window_days: int = Field(default=7, ge=1)
    verifier: VerifierPolicy = Field(default_factory=VerifierPolicy)

    @model_validator(mode="after")
    def _cross_checks(self) -> "TenantPolicy":
        for locale in [*self.locales, self.default_locale, *self.kb_locale_fallback]:
            if locale not in SUPPORTED_LOCALES:
                raise ValueError(f"locale {locale!r} is not supported; supported: {', '.join(SUPPORTED_LOCALES)}")
        for name in self.categories:
            if name not in DEFAULT_CATEGORIES:
                raise ValueError(f"categories.{name}: unknown category; known: {', '.join(DEFAULT_CATEGORIES)}")
        names = [rule.name for rule in self.routing]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"routing: duplicate rule names {sorted(duplicates)}")
        return self

    @cached_property
    def routing_conditions(self) -> tuple[tuple[RoutingRule, Condition], ...]:
        return tuple(
            (rule, compile_condition(f"routing[{rule.name}]", rule.condition, ROUTING_FIELDS)) for rule in self.routing
        )

    @cached_property
    def vip_conditions(self) -> tuple[Condition, ...]:
        return tuple(compile_condition(f"vip.criteria[{i}]", c, VIP_FIELDS) for i, c in enumerate(self.vip.criteria))

    @cached_property
    def verifier_conditions(self) -> tuple[tuple[VerifierRule, Condition], ...]:
        return tuple(
            (rule, compile_condition(f"verifier.rules[{rule.name}]", rule.condition, VERIFIER_RULE_FIELDS))
            for rule in self.verifier.rules
        )

    def category(self, name: str) -> CategoryPolicy:
        """A category's policy; unknown categories get the safest: assist, never autonomous."""
        return self.categories.get(name, CategoryPolicy(threshold=1.0, mode="assist", always_human=True))

    @cached_property
    def fingerprint(self) -> str:  # cached: a frozen policy's content never changes
        """Version stamped on decisions: the human version plus a hash of the content."""
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]
        return f"{self.policy_version}+{digest}"

    def validate_expressions(self) -> None:
        """Compile every condition now, so a bad rule stops start-up instead of a decision."""
        _ = self.routing_conditions, self.vip_conditions, self.verifier_conditions


def load_policy(path: Path) -> TenantPolicy:
    """Load and fully validate one tenant file, or raise ``PolicyError`` naming the entry."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: cannot read tenant policy: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}: a tenant policy is a mapping at the top level")
    try:
        policy = TenantPolicy.model_validate(raw)
        policy.validate_expressions()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise PolicyError(f"{path}: invalid tenant policy: {problems}") from None
    except ExpressionError as exc:
        raise PolicyError(f"{path}: invalid tenant policy: {exc}") from None
    return policy


def load_policies(directory: Path) -> dict[str, TenantPolicy]:
    """Every ``*.yaml`` in ``directory`` by tenant name."""
    policies: dict[str, TenantPolicy] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        policy = load_policy(path)
        if policy.tenant in policies:
            raise PolicyError(f"{path}: tenant {policy.tenant!r} is defined twice")
        policies[policy.tenant] = policy
    if not policies:
        raise PolicyError(f"{directory}: no tenant policy (*.yaml) found")
    return policies
