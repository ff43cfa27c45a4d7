"""The drafter service: pure logic modules beside the Kafka wiring in app.py."""
