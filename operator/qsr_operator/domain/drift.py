"""Does a live object still carry what the operator applied? The drift check before every write.

Pure: the API server adds defaults (`protocol`, `clusterIP`, probe timeouts ...), so a live object
matches when it contains every desired field with the desired value; extra fields are fine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def differences(desired: Any, live: Any, path: str = "") -> list[str]:
    """Paths where `live` lacks or changed a desired value; [] means nothing to apply.

    `live` may be any mapping (Kopf hands a watched object over as a read-only view, not a dict).
    """
    if isinstance(desired, dict):
        if not isinstance(live, Mapping):
            return [path or "."]
        out: list[str] = []
        for key, value in desired.items():
            out += differences(value, live.get(key), f"{path}.{key}")
        return out
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            return [path]
        out = []
        for index, (want, have) in enumerate(zip(desired, live, strict=True)):
            out += differences(want, have, f"{path}[{index}]")
        return out
    return [] if desired == live else [path]


def compared_part(manifest: dict[str, Any]) -> dict[str, Any]:
    """What of a manifest the drift check looks at: labels, annotations, owners, spec, data."""
    metadata = manifest["metadata"]
    keep = {k: metadata[k] for k in ("labels", "annotations", "ownerReferences") if k in metadata}
    body = {k: v for k, v in manifest.items() if k in ("spec", "data")}
    return {"metadata": keep, **body}
