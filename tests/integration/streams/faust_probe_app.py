"""A minimal Faust app for tests: records every value its agent sees on PSSYNC_PROBE_TOPIC.

With PSSYNC_PROBE_GUARD=<seconds> the stall guard watches the topic, and a value ``skip:<n>``
makes the consumer jump <n> records past it: the records a Faust consumer would have lost."""
import os

import faust

from streams.kafka_transport import guard_stalls, install

scheme = install() if os.environ.get("PSSYNC_PROBE_TRANSPORT", "rc") == "rc" else "kafka"
app = faust.App(os.environ["PSSYNC_PROBE_APP"], broker=f"{scheme}://{os.environ['PSSYNC_PROBE_BROKER']}",
                store="memory://", topic_replication_factor=1, topic_partitions=1, web_enabled=False,
                consumer_auto_offset_reset="earliest", processing_guarantee="at_least_once")
topic = app.topic(os.environ["PSSYNC_PROBE_TOPIC"], key_serializer="raw", value_serializer="raw")
if os.environ.get("PSSYNC_PROBE_GUARD"):
    guard_stalls(app, {os.environ["PSSYNC_PROBE_TOPIC"]}, after_s=float(os.environ["PSSYNC_PROBE_GUARD"]),
                 every_s=0.5)


@app.agent(topic)
async def record(stream):
    async for event in stream.events():
        value = event.value.decode()
        with open(os.environ["PSSYNC_PROBE_OUT"], "a") as out:
            out.write(value + "\n")
        if value.startswith("skip:"):
            message = event.message
            await app.consumer.seek(message.tp, message.offset + 1 + int(value[5:]))
