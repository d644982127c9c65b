"""`qsr dev crds [--write]`: renders crds/ from the spec models (the operator's CRD builders)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "crds"


def crds(
    write: Annotated[
        bool, typer.Option("--write", help="write the files instead of checking them")
    ] = False,
    out: Annotated[Path, typer.Option(help="folder of the CRD files")] = DEFAULT_DIR,
) -> None:
    """Check (or with --write, regenerate) the CustomResourceDefinitions in crds/."""
    from qsr_operator.domain import crds as builders

    stale = []
    for name, crd in builders.desired_crds().items():
        path, text = out / name, builders.render(crd)
        if path.exists() and path.read_text() == text:
            continue
        if write:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            typer.echo(f"wrote {path}")
        else:
            stale.append(name)
    if stale:
        typer.echo(f"out of date: {', '.join(stale)}; run `qsr dev crds --write`", err=True)
        raise typer.Exit(1)
