"""Kafka and the schema registry: the only modules that talk to either."""
