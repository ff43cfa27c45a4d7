"""Triage's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import Field

from casetrail.settings import CasetrailSettings
from services.triage.text_input import MAX_EMBED_TOKENS


class TriageSettings(CasetrailSettings):
    # CASETRAIL_TRIAGE_INTENT_MODEL / CASETRAIL_TRIAGE_SENTIMENT_MODEL: model folders (default: the
    # packaged models); a tenant's promoted intent model comes from the promotions file instead
    triage_intent_model: Optional[Path] = None
    triage_sentiment_model: Optional[Path] = None
    # CASETRAIL_TRIAGE_MAX_EMBED_TOKENS: tokens of text the embedding reads (0: no bound)
    triage_max_embed_tokens: int = Field(default=MAX_EMBED_TOKENS, ge=0)
