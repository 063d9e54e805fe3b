"""A minimal Faust app for tests: records every value its agent sees on PSSYNC_PROBE_TOPIC."""
import os

import faust

from pssync.streams.kafka_transport import install

scheme = install() if os.environ.get("PSSYNC_PROBE_TRANSPORT", "rc") == "rc" else "kafka"
app = faust.App(os.environ["PSSYNC_PROBE_APP"], broker=f"{scheme}://{os.environ['PSSYNC_PROBE_BROKER']}",
                store="memory://", topic_replication_factor=1, topic_partitions=1, web_enabled=False,
                consumer_auto_offset_reset="earliest", processing_guarantee="at_least_once")
topic = app.topic(os.environ["PSSYNC_PROBE_TOPIC"], key_serializer="raw", value_serializer="raw")


@app.agent(topic)
async def record(stream):
    async for value in stream:
        with open(os.environ["PSSYNC_PROBE_OUT"], "a") as out:
            out.write(value.decode() + "\n")
