"""`qsr dev ...`: the developer's tools — the real local stack, CRD generation, the local cluster."""

from __future__ import annotations

import typer

app = typer.Typer(help="Developer tools: local stack, CRDs, local cluster.", no_args_is_help=True)
stack = typer.Typer(help="The real local stack on 127.0.0.1.", no_args_is_help=True)
app.add_typer(stack, name="stack")
