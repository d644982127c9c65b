"""Maps an outside system's HTTP answer to the spoke vocabulary: 4xx refused, 5xx unavailable."""

from __future__ import annotations

from typing import Any

import httpx

from qsr_hub.spokes.ports import SpokeRefused, SpokeUnavailable


def checked(response: httpx.Response, *, spoke: str) -> dict[str, Any]:
    """The JSON body of a 2xx answer; otherwise the matching spoke error."""
    if response.is_success:
        body = response.json() if response.content else {}
        return body if isinstance(body, dict) else {"data": body}
    detail = _detail(response)
    if response.status_code >= 500 or response.status_code == 429:
        # The server may have acted before failing; only the idempotency key makes a retry safe.
        raise SpokeUnavailable(f"{spoke}: {response.status_code} {detail}", uncertain=True)
    raise SpokeRefused(f"{spoke}: {response.status_code} {detail}")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        title, detail = body.get("title"), body.get("detail") or body.get("error")
        if title and detail and title != detail:  # problem+json: "Insufficient points: reward …"
            return f"{title}: {detail}"[:200]
        return str(detail or title or body)[:200]
    return str(body)[:200]
