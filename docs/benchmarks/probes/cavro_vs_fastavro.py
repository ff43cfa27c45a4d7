"""cavro 1.0.0 against fastavro on the codec benchmark's envelope events (docs/benchmarks.md,
"Codec and thin events"). cavro is not a dependency; to repeat the probe:

    python -m pip download --no-deps cavro==1.0.0 -d /tmp/pkgs
    python -m pip install --no-deps --target /tmp/cavro /tmp/pkgs/cavro-1.0.0-*.whl
    PYTHONPATH=/tmp/cavro .venv/bin/python docs/benchmarks/probes/cavro_vs_fastavro.py

Prints encode+decode round trips per CPU-second of each, two rounds, one after the other.
"""

import io
import json
import time

import cavro
import fastavro

from casetrail.events.catalog import schema_of
from casetrail_tools.benchmarks.sample_events import sample_envelope_event


def round_trips_per_cpu_second(round_trip, records, rounds=50) -> float:
    started = time.process_time()
    for _ in range(rounds):
        for record in records:
            round_trip(record)
    return rounds * len(records) / (time.process_time() - started)


def main() -> None:
    schema = schema_of("SlaEvent")
    records = [sample_envelope_event(i).model_dump() for i in range(1000)]
    cavro_schema = cavro.Schema(json.dumps(schema), options=cavro.DEFAULT_OPTIONS.replace(record_decodes_to_dict=True))
    parsed = fastavro.parse_schema(schema)

    def fastavro_round_trip(record):
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, record)
        return fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), parsed, None)

    def cavro_round_trip(record):
        return cavro_schema.binary_decode(cavro_schema.binary_encode(record))

    body = io.BytesIO()
    fastavro.schemaless_writer(body, parsed, records[0])
    print("same bytes:", cavro_schema.binary_encode(records[0]) == body.getvalue(),
          "same dict:", cavro_round_trip(records[0]) == fastavro_round_trip(records[0]))
    for _ in range(2):
        print(f"cavro {round_trips_per_cpu_second(cavro_round_trip, records):,.0f}/s   "
              f"fastavro {round_trips_per_cpu_second(fastavro_round_trip, records):,.0f}/s")


if __name__ == "__main__":
    main()
