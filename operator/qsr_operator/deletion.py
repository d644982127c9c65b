"""A program's finalizer: delete its topics (`deletionPolicy: Delete`), or give up in time.

Kopf retries the delete handler while Kafka is unreachable and ends it after its `timeout`
(`DELETE_TIMEOUT_SECONDS`), so a deletion is never blocked forever; but then it only logs that a
handler timed out. Here the handler gives up itself, one retry before Kopf would (a margin of one
more retry covers Kopf's own delays), and says which topics it left behind in a Warning note.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from qsr_operator import reconcile_program, topics
from qsr_operator.domain import topic_plan
from qsr_operator.runtime import Note, Runtime

LEFT_BEHIND = "TopicsLeftBehind"


def gives_up(rt: Runtime, *, runtime: timedelta, spent: float) -> bool:
    """Whether another attempt (after the retry delay, taking as long as this one) could end past
    the deadline. `runtime`: Kopf's time since the first attempt; `spent`: this attempt's."""
    retry = rt.settings.retry_seconds
    finishes = runtime.total_seconds() + spent + retry + max(spent, retry)
    return finishes >= rt.settings.delete_timeout_seconds


def topic_names(body: Mapping[str, Any]) -> list[str]:
    owner = reconcile_program.owner_of(body)
    spec = reconcile_program.parse(body)
    plan = topic_plan.desired_topics(namespace=owner.namespace, program=owner.name, spec=spec)
    return [t.name for t in plan]


async def delete_topics(rt: Runtime, body: Mapping[str, Any], *, runtime: timedelta) -> Note | None:
    """What `reconcile_program.delete_topics` does; on `KafkaUnavailable`, re-raise it (the handler
    retries) unless the deadline is near, then return a warning note naming the topics."""
    started = time.monotonic()
    try:
        return await reconcile_program.delete_topics(rt, body)
    except topics.KafkaUnavailable as exc:
        spent = time.monotonic() - started
        if not gives_up(rt, runtime=runtime, spent=spent):
            raise
        waited = runtime.total_seconds() + spent
        names = ", ".join(topic_names(body))
        message = (
            f"gave up deleting topics after {waited:.0f}s (limit "
            f"{rt.settings.delete_timeout_seconds:.0f}s), Kafka unreachable: {exc}; "
            f"topics left behind: {names}"
        )
        return Note(LEFT_BEHIND, message, warning=True)
