"""``casetrail eval triage``: triage alone over labelled tickets, with the dev set's two halves apart.

The quick loop for intent, locale and sentiment work: every ticket goes through
ingest's ``Normaliser`` (connector, locale detection, redaction) and triage's
``Triager.triage`` — the services' own functions — and the figures are split
by the dev set's id parity: odd ids are the TUNE half (fit and tune on it),
even ids the CHECK half (report only), so overfitting to the dev set shows.
Embeddings are cached on disk (``var/triage/embeddings``), so a re-run with
another model costs seconds. The whole chain is ``casetrail eval decisions``.
"""
