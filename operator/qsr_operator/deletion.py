"""A program's finalizer: delete its topics (`deletionPolicy: Delete`), or give up in time.

Kopf retries the delete handler while Kafka is unreachable and ends it after its `timeout`
(`DELETE_TIMEOUT_SECONDS`), so a deletion is never blocked forever; but then it only logs that a
handler timed out. Here the handler gives up itself, one retry before Kopf would (a margin of one
more retry covers Kopf's own delays), and says which topics it left behind in a Warning note.

The deletion waits for a reconcile of the program in flight (the object's lock) and marks the
uid deleted, so no later trigger (a child event read from Kopf's index) creates the topics again.
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
    meta = body["metadata"]
    async with rt.lock_for(reconcile_program.KIND, meta["namespace"], meta["name"]):
        # After any reconcile in flight (it may be creating topics), and before any later one.
        rt.deleted.add(meta.get("uid", ""))
        started = time.monotonic()
        try:
            return await reconcile_program.delete_topics(rt, body)
        except topics.KafkaUnavailable as exc:
            spent = time.monotonic() - started
            if not gives_up(rt, runtime=runtime, spent=spent):
                raise
            return _left_behind(rt, body, runtime=runtime, spent=spent, error=exc)


def _left_behind(
    rt: Runtime, body: Mapping[str, Any], *, runtime: timedelta, spent: float, error: Exception
) -> Note:
    waited = runtime.total_seconds() + spent
    message = (
        f"gave up deleting topics after {waited:.0f}s (limit "
        f"{rt.settings.delete_timeout_seconds:.0f}s), Kafka unreachable: {error}; "
        f"topics left behind: {', '.join(topic_names(body))}"
    )
    return Note(LEFT_BEHIND, message, warning=True)
