"""Kafka topics through AIOKafkaAdminClient: describe, then do what `topic_plan.plan()` says.

aiokafka returns raw protocol responses, so per-topic error codes are checked here. Its AlterConfigs
is non-incremental: sending the full desired override set both sets spec keys and drops stray ones,
which is the convergence Strimzi gets from incremental SET + DELETE.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import InvalidPartitionsError, KafkaError, for_code

from qsr_kit import kafka_clients
from qsr_operator import metrics
from qsr_operator.domain.topic_plan import ActualTopic, TopicPlan, TopicSpec
from qsr_operator.inflight import InFlight

DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs config_source: a per-topic override
TOPIC_ALREADY_EXISTS = 36
UNKNOWN_TOPIC_OR_PARTITION = 3
REQUEST_TIMEOUT_MS = 10_000


class KafkaUnavailable(Exception):
    """Kafka could not be reached or failed a request; worth retrying later."""


class TopicRejected(Exception):
    """Kafka refused what the spec asks (replication above the broker count, a bad config)."""


def _check(code: int, message: str | None, what: str) -> None:
    if not code:
        return
    error = for_code(code)
    text = f"{what}: {error.__name__}: {message or ''}".strip()
    raise (KafkaUnavailable if error.retriable else TopicRejected)(text)


@dataclasses.dataclass
class TopicAdmin:
    """One admin client per operator, started under a lock (concurrent reconciles share it)."""

    bootstrap: str
    client: AIOKafkaAdminClient | None = None
    closed: bool = False
    starting: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    in_flight: InFlight[AIOKafkaAdminClient] = dataclasses.field(
        default_factory=lambda: InFlight(_close)
    )

    async def _admin(self) -> AIOKafkaAdminClient:
        async with self.starting:
            if self.closed:
                raise KafkaUnavailable("the operator is stopping")
            if self.client is None:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.bootstrap, request_timeout_ms=REQUEST_TIMEOUT_MS
                )
                metrics.KAFKA_CLIENTS_STARTED.labels(kind="admin").inc()
                try:
                    await kafka_clients.start(admin)
                except (KafkaError, OSError) as exc:
                    await _close(admin)
                    raise KafkaUnavailable(
                        f"cannot reach Kafka at {self.bootstrap}: {exc}"
                    ) from exc
                except BaseException:  # cancelled (shutdown): `start` has closed it
                    await _close(admin)
                    raise
                if self.closed:  # shutdown began while it was starting
                    await _close(admin)
                    raise KafkaUnavailable("the operator is stopping")
                self.client = admin
            return self.client

    async def close(
        self, *, final: bool = False, failed: AIOKafkaAdminClient | None = None
    ) -> None:
        """Close the client; with `failed`, only if that one is still the current client."""
        self.closed = self.closed or final
        if self.client is None or (failed is not None and self.client is not failed):
            return
        client, self.client = self.client, None  # detach first: no await in between
        await self.in_flight.retire(client)  # closed by its last call in flight, if any

    async def _guarded(self, call: Any) -> Any:
        """Run one admin call; on connection trouble drop the client so the next call reconnects."""
        admin = await self._admin()
        async with self.in_flight.using(admin):  # no await between getting it and counting it
            try:
                return await call(admin)
            except (KafkaUnavailable, TopicRejected):
                raise
            except (KafkaError, OSError) as exc:
                await self.close(failed=admin)
                raise KafkaUnavailable(f"Kafka at {self.bootstrap}: {exc!r}") from exc

    async def describe(self, names: Sequence[str]) -> dict[str, ActualTopic]:
        """The named topics that exist, with partition counts and per-topic config overrides."""

        async def call(admin: AIOKafkaAdminClient) -> dict[str, ActualTopic]:
            existing = set(await admin.list_topics()) & set(names)
            if not existing:
                return {}
            partitions = {
                t["topic"]: len(t["partitions"])
                for t in await admin.describe_topics(sorted(existing))
                if t["error_code"] == 0
            }
            resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in sorted(partitions)]
            overrides: dict[str, dict[str, str]] = {}
            for response in await admin.describe_configs(resources):
                for code, message, _type, name, entries in response.resources:
                    _check(code, message, f"describe configs of {name}")
                    overrides[name] = {
                        entry[0]: entry[1] for entry in entries if entry[3] == DYNAMIC_TOPIC_CONFIG
                    }
            return {n: ActualTopic(n, p, overrides.get(n, {})) for n, p in partitions.items()}

        result: dict[str, ActualTopic] = await self._guarded(call)
        return result

    async def execute(self, plan: TopicPlan) -> None:
        """Create, grow and reconfigure as planned; an already-existing topic counts as created."""

        async def call(admin: AIOKafkaAdminClient) -> None:
            if plan.create:
                response = await admin.create_topics([_new_topic(t) for t in plan.create])
                for name, code, message in response.topic_errors:
                    if code != TOPIC_ALREADY_EXISTS:
                        _check(code, message, f"create topic {name}")
            if plan.grow:
                # Strimzi: partitions only grow; the plan never holds a decrease.
                for name, count in plan.grow.items():
                    try:
                        await admin.create_partitions({name: NewPartitions(total_count=count)})
                    except InvalidPartitionsError:
                        # Metadata lagged behind an earlier grow; the next plan sees the truth.
                        continue
            if plan.reconfigure:
                await self._alter(admin, plan.reconfigure)

        await self._guarded(call)

    @staticmethod
    async def _alter(admin: AIOKafkaAdminClient, configs: Mapping[str, Mapping[str, str]]) -> None:
        resources = [
            ConfigResource(ConfigResourceType.TOPIC, name, configs=dict(config))
            for name, config in configs.items()
        ]
        for response in await admin.alter_configs(resources):
            for code, message, _type, name in response.resources:
                _check(code, message, f"alter configs of {name}")

    async def delete(self, names: Sequence[str]) -> None:
        """Delete topics; one that is already gone counts as deleted."""

        async def call(admin: AIOKafkaAdminClient) -> None:
            existing = sorted(set(await admin.list_topics()) & set(names))
            if not existing:
                return
            response = await admin.delete_topics(existing)
            for name, code, *_ in response.topic_error_codes:
                if code != UNKNOWN_TOPIC_OR_PARTITION:
                    _check(code, None, f"delete topic {name}")

        await self._guarded(call)


def _new_topic(topic: TopicSpec) -> NewTopic:
    return NewTopic(
        name=topic.name,
        num_partitions=topic.partitions,
        replication_factor=topic.replication_factor,
        topic_configs=dict(topic.config),
    )


async def _close(admin: AIOKafkaAdminClient) -> None:
    try:
        await admin.close()
    finally:
        metrics.KAFKA_CLIENTS_STOPPED.labels(kind="admin").inc()
