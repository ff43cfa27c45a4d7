"""Which queue (team) handles a case, and by whose opening hours.

A matched escalation rule names its queue. Otherwise the most specific team
whose skills cover the case wins: a team listing the category scores 2, a
team listing the locale scores 1, and a team must match every skill it lists
(a team with ``categories: [payment_issue]`` never gets a shipping question).
Teams that list no skills at all (generalists such as ``vip-support``) are
reached only by a rule or as the tenant's ``default_queue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from casetrail.policy.tenant import OpeningHours, RoutingRule, Team, TenantPolicy


@dataclass(frozen=True)
class QueueChoice:
    queue: str
    team: Optional[Team]
    hours: OpeningHours


def team_named(policy: TenantPolicy, name: str) -> Optional[Team]:
    for team in policy.teams:
        if team.name == name:
            return team
    return None


def _skill_score(team: Team, category: str, locale: str) -> int:
    if not team.categories and not team.locales:
        return 0
    if team.categories and category not in team.categories:
        return 0
    if team.locales and locale not in team.locales:
        return 0
    return (2 if team.categories else 0) + (1 if team.locales else 0)


def skilled_team(policy: TenantPolicy, category: str, locale: str) -> Optional[Team]:
    best: Optional[Team] = None
    best_score = 0
    for team in policy.teams:  # configuration order breaks ties
        score = _skill_score(team, category, locale)
        if score > best_score:
            best, best_score = team, score
    return best


def choose_queue(policy: TenantPolicy, category: str, locale: str, rule: Optional[RoutingRule]) -> QueueChoice:
    if rule is not None:
        team = team_named(policy, rule.queue)
    else:
        team = skilled_team(policy, category, locale) or team_named(policy, policy.default_queue)
    queue = rule.queue if rule is not None else (team.name if team else policy.default_queue)
    hours = team.hours if team is not None and team.hours is not None else policy.business_hours
    return QueueChoice(queue=queue, team=team, hours=hours)
