from __future__ import annotations

import pytest
from kb_testing import HashingEmbedder


@pytest.fixture
def embedder():
    return HashingEmbedder()
