"""The loyalty database: members, lots, the append-only entries, holds, orders seen and refunds.

Entries are the history (never updated); lots and the member row are projections kept in the same
transaction, so Σ entries = Σ lot remaining - member debt holds after every commit.
"""

from __future__ import annotations

import sqlalchemy as sa

from qsr_kit import schema

metadata = sa.MetaData(naming_convention=schema.NAMING)
Stamp = schema.UtcDateTime

members = sa.Table(
    "loyalty_members",
    metadata,
    sa.Column("member_id", sa.String(100), primary_key=True),
    sa.Column("program", sa.String(63), nullable=False),
    sa.Column("birthday", sa.Date(), nullable=True),
    sa.Column("enrolled_at", Stamp(), nullable=False),
    sa.Column("tier", sa.String(100), nullable=True),
    sa.Column("debt", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("orders", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("birthday_bonus_year", sa.Integer(), nullable=True),
    sa.CheckConstraint("debt >= 0", name="debt_not_negative"),
)

lots = sa.Table(
    "loyalty_lots",
    metadata,
    sa.Column("id", sa.String(300), primary_key=True),
    sa.Column(
        "member_id", sa.String(100), sa.ForeignKey("loyalty_members.member_id"), nullable=False
    ),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("remaining", sa.Integer(), nullable=False),
    sa.Column("reversed", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("earned_at", Stamp(), nullable=False),
    sa.Column("available_at", Stamp(), nullable=False),
    sa.Column("expires_at", Stamp(), nullable=True),
    sa.Column("business_date", sa.Date(), nullable=False),
    sa.Column("order_key", sa.String(300), nullable=True),
    sa.CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    sa.Index("ix_loyalty_lots_member_open", "member_id", "remaining"),
)

entries = sa.Table(
    "loyalty_entries",
    metadata,
    sa.Column("seq", schema.BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, unique=True),
    sa.Column(
        "member_id", sa.String(100), sa.ForeignKey("loyalty_members.member_id"), nullable=False
    ),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("at", Stamp(), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("order_key", sa.String(300), nullable=True),
    sa.Column("lot_id", sa.String(300), nullable=True),
    sa.Column("hold_id", sa.String(100), nullable=True),
    sa.Column("detail", sa.Text(), nullable=False, server_default="{}"),
    sa.Index("ix_loyalty_entries_member_seq", "member_id", "seq"),
)

holds = sa.Table(
    "loyalty_holds",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column(
        "member_id", sa.String(100), sa.ForeignKey("loyalty_members.member_id"), nullable=False
    ),
    sa.Column("reward_id", sa.String(63), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", Stamp(), nullable=False),
    sa.Column("expires_at", Stamp(), nullable=False),
    sa.Column("order_id", sa.String(200), nullable=True),
    sa.Index("ix_loyalty_holds_member_state", "member_id", "state"),
    sa.Index("ix_loyalty_holds_state_expires", "state", "expires_at"),
    sa.Index("ix_loyalty_holds_order", "order_id"),
)

orders = sa.Table(
    "loyalty_orders",
    metadata,
    sa.Column("order_key", sa.String(300), primary_key=True),
    sa.Column(
        "member_id", sa.String(100), sa.ForeignKey("loyalty_members.member_id"), nullable=False
    ),
    sa.Column("order_id", sa.String(200), nullable=False),
    sa.Column("paid_minor", sa.BigInteger(), nullable=False),
    sa.Column("points", sa.Integer(), nullable=False),
    sa.Column("completed_at", Stamp(), nullable=False),
)

refunds = sa.Table(
    "loyalty_refunds",
    metadata,
    sa.Column("order_key", sa.String(300), primary_key=True),
    sa.Column("refund_id", sa.String(200), primary_key=True),
    sa.Column("amount_minor", sa.BigInteger(), nullable=False),
    sa.Column("full", sa.Boolean(), nullable=False),
    sa.Column("refunded_at", Stamp(), nullable=False),
)
