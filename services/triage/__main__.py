"""``python -m services.triage`` runs the triage CLI (``casetrail triage`` does the same once mounted)."""

from services.triage.cli import app

app()
