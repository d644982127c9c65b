"""Webhook signatures: HMAC over timestamp and body, a five-minute window, named headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qsr_hub.domain import signatures
from qsr_hub.domain.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
SECRET = b"dev-only-store-0001-webhook"
BODY = b'{"eventId":"e1"}'
TS = int(NOW.timestamp())


def test_a_correctly_signed_body_is_accepted() -> None:
    signature = signatures.signature_of(SECRET, timestamp=TS, body=BODY)
    signatures.verify(SECRET, timestamp=str(TS), signature=signature, body=BODY, now=NOW)
    assert signature.startswith("v1=")


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "field"),
    [
        pytest.param(None, "v1=00", BODY, TIMESTAMP_HEADER, id="no-timestamp"),
        pytest.param("yesterday", "v1=00", BODY, TIMESTAMP_HEADER, id="not-a-number"),
        pytest.param(str(TS - 301), None, BODY, TIMESTAMP_HEADER, id="expired"),
        pytest.param(str(TS + 301), None, BODY, TIMESTAMP_HEADER, id="from-the-future"),
        pytest.param(str(TS), None, BODY, SIGNATURE_HEADER, id="no-signature"),
        pytest.param(str(TS), "v1=" + "0" * 64, BODY, SIGNATURE_HEADER, id="wrong-signature"),
        pytest.param(
            str(TS), "sign-original", b'{"eventId":"e2"}', SIGNATURE_HEADER, id="tampered-body"
        ),
    ],
)
def test_an_untrusted_webhook_names_the_header(
    timestamp: str | None, signature: str | None, body: bytes, field: str
) -> None:
    if signature == "sign-original":
        signature = signatures.signature_of(SECRET, timestamp=TS, body=BODY)
    with pytest.raises(signatures.SignatureError) as refused:
        signatures.verify(SECRET, timestamp=timestamp, signature=signature, body=body, now=NOW)
    assert refused.value.field == field


def test_another_stores_secret_does_not_verify() -> None:
    signature = signatures.signature_of(b"dev-only-store-0002-webhook", timestamp=TS, body=BODY)
    with pytest.raises(signatures.SignatureError):
        signatures.verify(
            SECRET,
            timestamp=str(TS),
            signature=signature,
            body=BODY,
            now=NOW + timedelta(seconds=1),
        )
