"""The data services of the stack: Apache Kafka (KRaft, from Maven jars), PostgreSQL 15, Redis 7."""

from __future__ import annotations

import asyncio
import base64
import os
import pwd
import socket
import uuid
from pathlib import Path

from qsr_devstack import processes
from qsr_devstack.paths import binary, kafka_libs
from qsr_devstack.processes import Started

KAFKA_LOG4J = """\
status = warn
appender.file.type = Console
appender.file.name = STDOUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.server.name = org.apache.kafka.server
logger.server.level = INFO
"""


def kafka_properties(*, data: Path, broker: int, controller: int) -> str:
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{broker}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.network.threads=2
num.io.threads=2
"""


def kafka_cluster_id() -> str:
    """A random cluster id as Kafka's Uuid.randomUuid() makes it: base64url of 16 bytes, never
    starting with "-", which the storage tool's command line would read as an option."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def _kafka_ready(bootstrap: str) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2):
        pass  # the listener is up; only now ask the broker (aiokafka logs every refused connect)

    async def probe() -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        await admin.start()
        try:
            cluster = await admin.describe_cluster()
            return bool(cluster.get("brokers"))
        finally:
            await admin.close()

    return asyncio.run(probe())


def start_kafka(root: Path, *, die_with_parent: bool) -> tuple[Started, str]:
    libs = kafka_libs()
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise processes.StartError(f"Kafka jars missing in {libs}: run `make stack`")
    folder = root / "kafka"
    folder.mkdir(parents=True, exist_ok=True)
    broker, controller = processes.free_port(), processes.free_port()
    props = folder / "server.properties"
    props.write_text(kafka_properties(data=folder / "data", broker=broker, controller=controller))
    log4j = folder / "log4j2.properties"
    log4j.write_text(KAFKA_LOG4J)
    java = [
        str(binary("java")),
        "-Xms256m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:TieredStopAtLevel=1",  # faster start; the broker is for tests
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
        "-cp",
        f"{libs}/*",
    ]
    cluster_id = kafka_cluster_id()
    log = root / "kafka.log"
    processes.run_once(
        "kafka storage format",
        [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
        log=log,
    )
    proc = processes.start(
        "kafka", [*java, "kafka.Kafka", str(props)], log=log, die_with_parent=die_with_parent
    )
    bootstrap = f"127.0.0.1:{broker}"
    processes.wait_healthy(proc, lambda: _kafka_ready(bootstrap), timeout=180)
    return proc, bootstrap


def start_postgres(root: Path, *, die_with_parent: bool) -> tuple[Started, str]:
    # PostgreSQL refuses to run as root: the data directory belongs to the `postgres` user.
    user = "postgres"
    entry = pwd.getpwnam(user)
    data, sockets = root / "postgres", root / "postgres-sockets"
    for folder in (data, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    log = root / "postgres.log"
    processes.run_once(
        "initdb",
        [binary("initdb"), "-D", data, "-U", "qsr", "--auth=trust", "-E", "UTF8", "--no-sync"],
        log=log,
        user=user,
    )
    port = processes.free_port()
    proc = processes.start(
        "postgres",
        [
            binary("postgres"),
            "-D",
            data,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            sockets,
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=256MB",
        ],
        log=log,
        die_with_parent=die_with_parent,
        user=user,
    )
    ready = [binary("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "qsr"]

    def healthy() -> bool:
        import subprocess

        return subprocess.call([str(a) for a in ready]) == 0

    processes.wait_healthy(proc, healthy, timeout=60)
    return proc, f"postgresql://qsr@127.0.0.1:{port}/postgres"


def start_redis(root: Path, *, die_with_parent: bool) -> tuple[Started, str]:
    port = processes.free_port()
    folder = root / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    proc = processes.start(
        "redis",
        [
            binary("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
            "--protected-mode",
            "yes",
        ],
        log=root / "redis.log",
        die_with_parent=die_with_parent,
    )

    def healthy() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    processes.wait_healthy(proc, healthy, timeout=30)
    return proc, f"redis://127.0.0.1:{port}/0"
