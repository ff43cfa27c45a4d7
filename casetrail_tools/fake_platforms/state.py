"""What the fake platforms hold and record: tickets, their messages, tags, group, priority;
every write request; scheduled faults. Shared by the vendor fakes (one process, one lock)."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Message:
    id: int
    body: str
    public: bool  # False: an internal note / work note
    created_at: float
    author: str = "casetrail"


@dataclass
class Ticket:
    platform: str
    external_id: str
    messages: list[Message] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    group: Optional[str] = None
    priority: Optional[str] = None
    assignee: Optional[str] = None


@dataclass
class Fault:
    """Answer ``status`` to the next ``count`` write requests of ``platform`` (or until ``until``).

    ``after_write``: do the write, then answer the error (the reply was lost: an ambiguous failure).
    """

    platform: str
    status: int
    count: int = 1
    until: Optional[float] = None
    retry_after: Optional[float] = None
    after_write: bool = False


class PlatformState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tickets: dict[tuple[str, str], Ticket] = {}
        self.requests: list[dict] = []
        self.faults: list[Fault] = []
        self.faults_served: dict[str, int] = {}
        self.mail: list[dict] = []
        self.latency = 0.0  # seconds each write takes (a real platform is not instant)
        self._ids = itertools.count(1000)

    def ticket(self, platform: str, external_id: str) -> Ticket:
        key = (platform, str(external_id))
        if key not in self.tickets:
            self.tickets[key] = Ticket(platform, str(external_id))
        return self.tickets[key]

    def next_id(self) -> int:
        return next(self._ids)

    def add_message(self, platform: str, external_id: str, body: str, public: bool) -> Message:
        message = Message(self.next_id(), body, public, time.time())
        self.ticket(platform, external_id).messages.append(message)
        return message

    def record(self, platform: str, method: str, path: str, body) -> None:
        self.requests.append({"platform": platform, "method": method, "path": path, "body": body, "at": time.time()})

    def take_fault(self, platform: str) -> Optional[Fault]:
        now = time.time()
        for fault in list(self.faults):
            if fault.platform != platform:
                continue
            if fault.until is not None:
                if now >= fault.until:
                    self.faults.remove(fault)
                    continue
            elif fault.count <= 0:
                self.faults.remove(fault)
                continue
            else:
                fault.count -= 1
            served = f"{platform}:{fault.status}"
            self.faults_served[served] = self.faults_served.get(served, 0) + 1
            return fault
        return None

    def snapshot(self) -> dict:
        return {
            "tickets": [
                {"platform": t.platform, "external_id": t.external_id, "tags": t.tags, "group": t.group,
                 "priority": t.priority, "assignee": t.assignee,
                 "messages": [{"id": m.id, "body": m.body, "public": m.public} for m in t.messages]}
                for t in self.tickets.values()
            ],
            "mail": self.mail,
            "requests": len(self.requests),
            "faults_served": self.faults_served,
        }
