"""Kopf's diff-base storage, built without deep-copying what it throws away.

Kopf builds the "essence" of every watched object on every watch event, stores included (which
have no change handlers), starting with a deep copy of the whole body, status and managedFields
included, which it then deletes. A py-spy of the operator during 1,000 store applies put ~9 % of
its samples there. This storage hands Kopf's own `build` a body without those parts: same essence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import kopf

# What Kopf's build reads from `metadata`: labels and annotations (kept in the essence) and
# ownerReferences (with `kind`, which annotation key it uses).
KEPT_METADATA = ("labels", "annotations", "ownerReferences")


class SlimDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        fields = list(extra_fields or ())
        if fields:  # a handler filters on some field (maybe in status): Kopf's way, untouched
            return super().build(body=body, extra_fields=fields)
        meta = body.get("metadata") or {}
        slim: dict[str, Any] = {key: value for key, value in body.items() if key != "status"}
        slim["metadata"] = {key: meta[key] for key in KEPT_METADATA if key in meta}
        return super().build(body=kopf.Body(cast(kopf.RawBody, slim)))
