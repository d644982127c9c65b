"""qsr_identity: accounts, clients, codes, refresh tokens, signing keys, federated links.

Revision ID: identity_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from qsr_identity import repository

revision = "identity_0001"
down_revision = None
branch_labels = ("qsr_identity",)
depends_on = None

_ORDER = [
    "identity_accounts",
    "identity_clients",
    "identity_codes",
    "identity_refresh_tokens",
    "identity_signing_keys",
    "identity_federated_links",
]


def upgrade() -> None:
    bind = op.get_bind()
    for name in _ORDER:
        repository.metadata.tables[name].create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for name in reversed(_ORDER):
        repository.metadata.tables[name].drop(bind)
