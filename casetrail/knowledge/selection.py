"""Which published knowledge-base version a reader serves per tenant and locale: the promoted one.

``casetrail gate --kind knowledge_base --candidate NAME`` promotes (or refuses)
a candidate by name; ``casetrail kb publish --version NAME`` publishes it
under the same name (the human part of ``<NAME>+<content hash>``). From the
promotions file (``casetrail.promotions``), read once at start-up, each
tenant is in one of two states:

- ``FollowNewest``: no promotion, today's behaviour: the newest published
  version of each locale, skipping versions whose name the gate refused;
- ``PinnedToPromotion``: the catalogue as it stood when ``NAME`` was
  published. Per locale, the newest version published up to and including
  the last version named ``NAME``: the locale's own ``NAME`` version, or,
  for a locale ``kb publish`` left unchanged (same content as its newest
  version, so nothing was written), the version whose content ``NAME``
  carried. A version published later, unpromoted, is never served, and the
  pin does not move while the process runs (a new promotion rolls the pods).

A promotion whose name is not in the catalogue at start-up refuses start-up
(``PromotedVersionMissing``): serving something else would put a version
nobody evaluated in front of customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence, Union

from casetrail.knowledge.catalogue import Catalogue, PublishedVersion
from casetrail.promotions import promoted_entry, refused_versions

KIND = "knowledge_base"


class PromotedVersionMissing(RuntimeError):
    """The promoted knowledge base is not published; the message names the tenant and the version."""


@dataclass(frozen=True)
class FollowNewest:
    #: names the gate refused for this tenant (never served)
    refused: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PinnedToPromotion:
    #: the promoted name (``gate --candidate`` = ``kb publish --version``)
    version: str
    #: the catalogue sequence number of the last version published under that name
    up_to_seq: int


TenantSelection = Union[FollowNewest, PinnedToPromotion]


def tenant_selection(promotions: Mapping, tenant: str, versions: Sequence[PublishedVersion]) -> TenantSelection:
    """The tenant's state from the promotions file content and every published version of the tenant."""
    entry = promoted_entry(promotions, tenant, KIND)
    if entry is None:
        return FollowNewest(refused_versions(promotions, tenant, KIND))
    name = entry["version"]
    named = [v.seq for v in versions if v.tenant == tenant and v.human_version == name]
    if not named:
        raise PromotedVersionMissing(
            f"tenant {tenant}: the promoted knowledge base {name} is not in the catalogue (no version {name}+…); "
            f"publish it with `casetrail kb publish <folder> --tenant {tenant} --version {name}`")
    return PinnedToPromotion(name, max(named))


def choose_version(selection: TenantSelection, locale_versions: Sequence[PublishedVersion]) -> Optional[PublishedVersion]:
    """The version to serve among one tenant locale's published versions (any order), or None."""
    ordered = sorted(locale_versions, key=lambda v: v.seq)
    if isinstance(selection, PinnedToPromotion):
        eligible = [v for v in ordered if v.seq <= selection.up_to_seq]
    else:
        eligible = [v for v in ordered if v.human_version not in selection.refused]
    return eligible[-1] if eligible else None


class VersionSelection:
    """Per tenant, its ``TenantSelection``; tenants it does not know follow the newest version."""

    def __init__(self, tenants: Mapping[str, TenantSelection]):
        self.tenants = dict(tenants)

    @classmethod
    def from_promotions(cls, promotions: Mapping, catalogue: Catalogue, tenants: Iterable[str]) -> "VersionSelection":
        """Raises ``PromotedVersionMissing`` when a tenant's promoted name is not published."""
        return cls({tenant: tenant_selection(promotions, tenant, catalogue.versions(tenant)) for tenant in tenants})

    def choose(self, catalogue: Catalogue, tenant: str, locale: str) -> Optional[PublishedVersion]:
        selection = self.tenants.get(tenant, FollowNewest())
        if selection == FollowNewest():  # no promotion and nothing refused: the newest, in one query
            return catalogue.latest(tenant, locale)
        return choose_version(selection, catalogue.versions(tenant, locale))
