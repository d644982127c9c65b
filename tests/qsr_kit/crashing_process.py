"""A consumer or relay that SIGKILLs itself at a chosen point (run as a subprocess by the tests).

python -m tests.qsr_kit.crashing_process consumer <bootstrap> <dsn> <topic> <group>
    processes ONE record (its database transaction commits), then dies before the offset commit.
python -m tests.qsr_kit.crashing_process relay <bootstrap> <dsn>
    publishes the outbox (every record acked by Kafka), then dies before marking rows sent.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from qsr_kit import bus, db, kafka, outbox

from . import pipeline_support as support


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


async def consumer(bootstrap: str, dsn: str, topic: str, group: str) -> None:
    engine = db.engine_from_url(dsn)
    producer = kafka.producer(bootstrap)
    await producer.start()
    processor = support.processor(engine, kafka.KafkaPublisher(producer), support.Switch())

    async def process_then_die(record: bus.Record) -> None:
        outcome = await processor.process(record)
        print(f"{outcome.value} {record.partition}/{record.offset}")
        die()

    await kafka.consume(
        bootstrap=bootstrap,
        group_id=group,
        topic_names=[topic],
        process=process_then_die,
        stop=asyncio.Event(),
    )


class DieAfterPublish:
    def __init__(self, publisher: bus.Publisher) -> None:
        self.publisher = publisher

    async def publish(self, records: Sequence[bus.Record]) -> None:
        await self.publisher.publish(records)
        print(f"published {len(records)}")
        die()


async def relay(bootstrap: str, dsn: str) -> None:
    engine = db.engine_from_url(dsn)
    producer = kafka.producer(bootstrap)
    await producer.start()
    await outbox.Relay(engine, DieAfterPublish(kafka.KafkaPublisher(producer))).publish_pending()


async def writer(dsn: str, topic: str, event_id: str) -> None:
    engine = db.engine_from_url(dsn)
    async with db.transaction(db.sessionmaker_of(engine)) as session:
        await outbox.add(session, support.order_event(event_id), topic=topic)
    print("committed")
    die()


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    modes: dict[str, Callable[..., Coroutine[Any, Any, None]]] = {
        "consumer": consumer,
        "relay": relay,
        "writer": writer,
    }
    asyncio.run(modes[mode](*args))
    sys.exit(3)  # reaching here means the crash point was never hit
