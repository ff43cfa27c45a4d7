"""The tooling's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus the
local broker's port and the relay service's fault switches (tests and benchmarks only)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import Field

from casetrail.settings import CasetrailSettings

DEFAULT_BROKER_PORT = 19092


class ToolingSettings(CasetrailSettings):
    # CASETRAIL_BROKER_PORT: the port of this checkout's local broker (``casetrail broker start``);
    # one per worktree when several share a machine
    broker_port: int = Field(default=DEFAULT_BROKER_PORT, ge=1, le=65_535)
    # CASETRAIL_RELAY_DEPENDENCY_DOWN: while this file exists, the relay's "needs-dependency" records fail retryably
    relay_dependency_down: Optional[Path] = None
    # CASETRAIL_RELAY_CRASH_MARKER: the relay kills itself on a "crash" record once, creating this file
    relay_crash_marker: Optional[Path] = None
