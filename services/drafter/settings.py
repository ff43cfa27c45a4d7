"""The drafter's settings: the shared ones (``casetrail.settings.CasetrailSettings``) plus its own
(``CASETRAIL_DRAFTER_*``)."""

from __future__ import annotations

from typing import Optional

from pydantic import SecretStr

from casetrail.settings import CasetrailSettings


class DrafterSettings(CasetrailSettings):
    # CASETRAIL_DRAFTER_MIN_SCORE: grounding floor (retrieval score), see README "Grounding and confidence"
    drafter_min_score: float = 0.90
    # CASETRAIL_DRAFTER_ANSWER_CONFIDENCE_PATH: the answer-confidence model (JSON);
    # default services/drafter/models/answer-confidence.json
    drafter_answer_confidence_path: Optional[str] = None
    # CASETRAIL_DRAFTER_QDRANT_PATH: embedded Qdrant folder; default <data_dir>/qdrant/drafter (ignored with QDRANT_URL)
    drafter_qdrant_path: Optional[str] = None
    drafter_kb_refresh_seconds: float = 2.0  # CASETRAIL_DRAFTER_KB_REFRESH_SECONDS
    # CASETRAIL_DRAFTER_LLM_URL / _MODEL / _API_KEY / _TIMEOUT_SECONDS: optional LLM composer
    # (OpenAI-compatible, e.g. http://vllm:8000/v1); unset URL = the offline template composer
    drafter_llm_url: Optional[str] = None
    drafter_llm_model: Optional[str] = None
    drafter_llm_api_key: Optional[SecretStr] = None
    drafter_llm_timeout_seconds: float = 30.0
