"""`qsr events ...`: operate the event backbone (move dead letters back after a fix)."""

from __future__ import annotations

import asyncio

import typer

app = typer.Typer(help="Event backbone: dead-letter replay.", no_args_is_help=True)


@app.command("replay")
def replay(
    topic: str = typer.Argument(..., help="the .dlq topic (or its main topic) to replay"),
    bootstrap: str = typer.Option(
        ..., envvar="QSR_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers, host:port"
    ),
    group: str = typer.Option("qsr-replay", help="consumer group remembering what was replayed"),
    limit: int | None = typer.Option(None, min=1, help="replay at most this many records"),
) -> None:
    """Re-publish DLQ records to their original topic (same key, value and original headers).

    Event ids are unchanged, so consumers that already processed an event skip it (inbox).
    """
    from qsr_kit import kafka
    from qsr_kit.domain import topics

    if not topic.startswith(f"{topics.PREFIX}."):
        raise typer.BadParameter(
            f"{topic!r} is not a qsr.<ns>.<program>.<stream> topic", param_hint="TOPIC"
        )
    dlq = topics.dlq_of(topics.Topic(topic))
    moved = asyncio.run(kafka.replay(bootstrap=bootstrap, dlq=dlq, group_id=group, limit=limit))
    typer.echo(f"replayed {moved} record(s) from {dlq} to {topics.original_of(dlq)}")
