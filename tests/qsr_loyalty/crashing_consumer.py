"""The loyalty consumer that SIGKILLs itself after one record's database commit and before its
Kafka offset commit (run as a subprocess by test_loyalty_crash.py).

python -m tests.qsr_loyalty.crashing_consumer <bootstrap> <dsn> <topic> <group>
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from qsr_kit import bus, consuming, db, kafka
from qsr_kit.domain import payloads
from qsr_loyalty import consumers, program
from tests.qsr_loyalty.conftest import EXAMPLES


async def consume_one_then_die(bootstrap: str, dsn: str, topic: str, group: str) -> None:
    engine = db.engine_from_url(dsn)
    producer = kafka.producer(bootstrap)
    await producer.start()
    processor = consuming.Processor(
        group=group, sessions=db.sessionmaker_of(engine),
        handler=consumers.handler(program.load(EXAMPLES)), registry=payloads.REGISTRY,
        publisher=kafka.KafkaPublisher(producer),
        driver_handler=consumers.driver_handler(program.load(EXAMPLES)),  # as the service does
    )  # fmt: skip

    async def process_then_die(record: bus.Record) -> None:
        outcome = await processor.process(record)  # the ledger transaction has committed
        print(f"{outcome.value} {record.partition}/{record.offset}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    await kafka.consume(
        bootstrap=bootstrap, group_id=group, topic_names=[topic], process=process_then_die,
        stop=asyncio.Event(),
    )  # fmt: skip


if __name__ == "__main__":
    asyncio.run(consume_one_then_die(*sys.argv[1:]))
    sys.exit(3)  # reaching here means the crash point was never hit
