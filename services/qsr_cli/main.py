"""The `qsr` command: one sub-command group per area, each in its own module of this package.

Sub-modules import their service lazily inside commands, so `qsr --help` stays fast.
"""

from __future__ import annotations

import typer

from qsr_cli import demo, dev, events, run, serve

app = typer.Typer(help="qsr-platform: Kubernetes-native backend for quick-service restaurants.")
app.add_typer(dev.app, name="dev")
app.add_typer(events.app, name="events")
app.command("serve")(serve.serve)
app.command("run")(run.run)
app.command("demo")(demo.demo)


if __name__ == "__main__":
    app()
