"""qsr_loyalty: loyalty_tiering, the tiering each program's members were last re-tiered to.

Revision ID: loyalty_0002
Revises: loyalty_0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from qsr_loyalty import retiering

revision = "loyalty_0002"
down_revision = "loyalty_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    retiering.state.create(op.get_bind())


def downgrade() -> None:
    retiering.state.drop(op.get_bind())
