"""qsr_loyalty: members, lots, entries, holds, orders, refunds.

Revision ID: loyalty_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from qsr_loyalty import tables

revision = "loyalty_0001"
down_revision = None
branch_labels = ("qsr_loyalty",)
depends_on = None

_ORDER = [
    "loyalty_members",
    "loyalty_lots",
    "loyalty_entries",
    "loyalty_holds",
    "loyalty_orders",
    "loyalty_refunds",
]


def upgrade() -> None:
    bind = op.get_bind()
    for name in _ORDER:
        tables.metadata.tables[name].create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for name in reversed(_ORDER):
        tables.metadata.tables[name].drop(bind)
