"""casetrail: event-driven customer-support automation for regulated work.

This package is the shared runtime every service imports: event contracts,
Avro framing, topics as code, settings, the Kafka service runtime (confluent-kafka, transactions), the
local broker manager and the command line. Each service lives in
``services/<name>/`` with its pure decision logic apart from its Kafka wiring.
"""

__version__ = "0.1.0"
