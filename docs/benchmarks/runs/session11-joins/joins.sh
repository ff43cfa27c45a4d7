#!/bin/bash
# Join runs for every scalable service on one serving broker (session 11).
cd "$(dirname "$0")/../../../.."  # the repository root
export CASETRAIL_BROKER_PORT=39092
unset KAFKA_BOOTSTRAP_SERVERS
.venv/bin/casetrail broker start
export KAFKA_BOOTSTRAP_SERVERS=localhost:39092
out=${OUT:-docs/benchmarks/runs/session11-joins}; mkdir -p "$out"
echo "warmup $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
.venv/bin/casetrail bench pipeline --rate 20 --duration 60 --no-plain --json $out/warmup.json > $out/warmup.log 2>&1
for s in ingest drafter verifier router delivery triage; do
  echo "$s $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
  .venv/bin/casetrail bench pipeline --rate 20 --duration 180 --no-plain --join $s --json $out/join-$s.json > $out/join-$s.log 2>&1
  echo "$s rc $? $(date -u +%T)"
done
unset KAFKA_BOOTSTRAP_SERVERS
.venv/bin/casetrail broker stop
