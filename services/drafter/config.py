"""The drafter's settings, from the environment (``CASETRAIL_DRAFTER_*``)."""

from __future__ import annotations

from typing import Optional

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DrafterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASETRAIL_DRAFTER_", frozen=True, extra="ignore")

    min_score: float = 0.90  # grounding floor (retrieval score), see README "Grounding and confidence"
    #: the answer-confidence model (JSON); default services/drafter/models/answer-confidence.json
    answer_confidence_path: Optional[str] = None
    #: embedded Qdrant folder; default <data_dir>/qdrant/drafter (ignored when QDRANT_URL is set)
    qdrant_path: Optional[str] = None
    kb_refresh_seconds: float = 2.0
    #: optional LLM composer (OpenAI-compatible); unset = the offline template composer
    llm_url: Optional[str] = None  # e.g. http://vllm:8000/v1
    llm_model: Optional[str] = None
    llm_api_key: Optional[SecretStr] = None
    llm_timeout_seconds: float = 30.0
