"""One-off check of Apicurio's Confluent-compatible API with confluent-kafka's client.

Run: python -m pssync.devstack.registry_check   (uses StackSettings, i.e. PSSYNC_STACK_* env vars)
"""
import json
import sys
import uuid

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from .settings import StackSettings

V1 = {"type": "record", "name": "Product", "namespace": "pssync.check",
      "fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"}]}
V2_COMPATIBLE = {**V1, "fields": [*V1["fields"], {"name": "price", "type": "double", "default": 0.0}]}
V3_INCOMPATIBLE = {**V1, "fields": [*V1["fields"], {"name": "sku", "type": "string"}]}


def run(settings: StackSettings) -> list[tuple[str, bool, str]]:
    results: list[tuple[str, bool, str]] = []

    def record(name: str, ok: bool, detail: str = "") -> None:
        results.append((name, ok, detail))

    url = settings.ccompat_url
    client = SchemaRegistryClient({"url": url})
    subject = f"devstack-check-{uuid.uuid4().hex[:8]}-value"

    schema_id = client.register_schema(subject, Schema(json.dumps(V1), "AVRO"))
    fetched = client.get_schema(schema_id)
    record("register + get_schema(id)", json.loads(fetched.schema_str) == V1, f"id={schema_id}")
    latest = client.get_latest_version(subject)
    record("get_latest_version", latest.schema_id == schema_id and latest.version == 1,
           f"version={latest.version} id={latest.schema_id}")
    record("get_subjects lists it", subject in client.get_subjects())

    http = httpx.Client(base_url=url, timeout=10.0)
    before = http.get("/config")
    previous = before.json().get("compatibilityLevel") if before.status_code == 200 else None
    put = http.put("/config", json={"compatibility": "BACKWARD"},
                   headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    record("PUT /config BACKWARD", put.status_code == 200, f"{put.status_code} {put.text.strip()} (was {previous})")
    after = http.get("/config").json()
    record("GET /config says BACKWARD", after.get("compatibilityLevel") == "BACKWARD", json.dumps(after))

    v2_id = client.register_schema(subject, Schema(json.dumps(V2_COMPATIBLE), "AVRO"))
    record("compatible change accepted", v2_id != schema_id, f"id={v2_id}")

    compatible = client.test_compatibility(subject, Schema(json.dumps(V3_INCOMPATIBLE), "AVRO"))
    record("test_compatibility says incompatible", compatible is False, f"is_compatible={compatible}")
    try:
        client.register_schema(subject, Schema(json.dumps(V3_INCOMPATIBLE), "AVRO"))
        record("incompatible change rejected", False, "registered!")
    except SchemaRegistryError as exc:
        record("incompatible change rejected", exc.http_status_code == 409,
               f"HTTP {exc.http_status_code} code={exc.error_code} {exc.error_message[:120]}")

    # A fresh client: the first one cached "latest" = v1 (confluent-kafka caches get_latest_version).
    fresh = SchemaRegistryClient({"url": url})
    serializer = AvroSerializer(fresh, json.dumps(V2_COMPATIBLE), conf={"auto.register.schemas": False,
                                                                         "use.latest.version": True})
    deserializer = AvroDeserializer(fresh)
    ctx = SerializationContext(subject.removesuffix("-value"), MessageField.VALUE)
    payload = serializer({"id": 7, "name": "shirt", "price": 9.5}, ctx)
    decoded = deserializer(payload, ctx)
    record("AvroSerializer/AvroDeserializer round trip", decoded == {"id": 7, "name": "shirt", "price": 9.5},
           f"wire id={int.from_bytes(payload[1:5], 'big')}")

    restore = previous or "NONE"
    http.put("/config", json={"compatibility": restore},
             headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    return results


def main() -> int:
    results = run(StackSettings())
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
