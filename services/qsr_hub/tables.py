"""The hub's tables: persisted checkout sagas, card refunds owed, and POS webhooks (raw, kept)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from qsr_kit import schema

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
metadata = sa.MetaData(naming_convention=schema.NAMING)

sagas = sa.Table(
    "hub_sagas",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("principal", sa.String(200), nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=False, unique=True),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
    sa.Column("lease_until", schema.UtcDateTime(), nullable=False),
    sa.Column("created_at", schema.UtcDateTime(), nullable=False),
    sa.Column("updated_at", schema.UtcDateTime(), nullable=False),
    sa.UniqueConstraint("principal", "idempotency_key", name="uq_hub_sagas_principal_key"),
)

pos_events = sa.Table(
    "hub_pos_events",
    metadata,
    sa.Column("id", schema.BigId, primary_key=True, autoincrement=True),
    sa.Column("store_id", sa.String(64), nullable=False),
    sa.Column("pos_type", sa.String(32), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # received|processed|ignored|rejected
    sa.Column("error_field", sa.String(300), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("report", sa.JSON(), nullable=True),  # unmapped items, order keys
    sa.Column("received_at", schema.UtcDateTime(), nullable=False),
    sa.Column("processed_at", schema.UtcDateTime(), nullable=True),
    sa.UniqueConstraint("store_id", "digest", name="uq_hub_pos_events_store_digest"),
)

pos_completions = sa.Table(
    "hub_pos_completions",
    metadata,
    sa.Column("order_key", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("pos_event_id", sa.BigInteger(), nullable=False),
    sa.Column("created_at", schema.UtcDateTime(), nullable=False),
)

# One row per ordering refund (`order.refunded`'s refund id) of a checkout order: the card refund
# the hub owes, retried until the processor answers (pending → refunded | refused).
card_refunds = sa.Table(
    "hub_card_refunds",
    metadata,
    sa.Column("refund_id", sa.String(200), primary_key=True),
    sa.Column("saga_id", sa.String(64), nullable=False, index=True),
    sa.Column("order_id", sa.String(64), nullable=False),
    sa.Column("money_minor", sa.BigInteger(), nullable=True),  # None: the rest (a full refund)
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("full", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending|refunded|refused
    sa.Column("refunded_minor", sa.BigInteger(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("next_attempt_at", schema.UtcDateTime(), nullable=False),
    sa.Column("created_at", schema.UtcDateTime(), nullable=False),
    sa.Column("updated_at", schema.UtcDateTime(), nullable=False),
    sa.Index("ix_hub_card_refunds_due", "status", "next_attempt_at"),
)
