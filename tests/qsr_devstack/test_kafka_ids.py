"""Kafka cluster ids are valid for the storage tool's command line."""

from __future__ import annotations

import base64

from qsr_devstack.services import kafka_cluster_id


def test_cluster_ids_never_start_with_a_dash_and_decode_to_16_bytes() -> None:
    # About 1 in 64 raw base64url ids starts with "-": 5,000 draws would surely meet some.
    ids = [kafka_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)
