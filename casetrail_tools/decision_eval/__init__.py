"""``casetrail eval decisions``: the whole pure decision chain over a file of tickets.

Normalise (ingest), triage, draft, verify and route — the same functions the
services call, with no broker — at a fixed clock, then a summary against the
tickets' expected labels. ``tickets`` reads and turns a ticket line into an
intake payload, ``chain`` runs one ticket through every stage, ``summary``
computes the figures, ``report`` prints them.
"""
