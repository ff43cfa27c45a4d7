"""Personal data: detection (shared by ingest's redaction and the verifier's leak
check) and per-customer keys for crypto-shredding (shared by ingest and audit)."""
