"""`qsr dev ...`: developer tools — the real local stack, CRD generation, the local cluster."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer

from qsr_cli import crds

app = typer.Typer(help="Developer tools: local stack, CRDs, local cluster.", no_args_is_help=True)
app.command("crds")(crds.crds)
stack = typer.Typer(help="The real local stack on 127.0.0.1.", no_args_is_help=True)
app.add_typer(stack, name="stack")

ALL_GROUPS = ["k8s", "kafka", "postgres", "redis"]
StateDir = typer.Option(None, help="where the running stack is recorded (default: the cache)")


def _pointer(state_dir: Path | None) -> Path:
    from qsr_devstack import paths

    folder = state_dir or paths.default_state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "current"


def _running(state_dir: Path | None):  # type: ignore[no-untyped-def]
    from qsr_devstack.stack import Stack

    pointer = _pointer(state_dir)
    if not pointer.exists():
        return None
    state_file = Path(pointer.read_text().strip())
    return Stack.load(state_file) if state_file.exists() else None


@stack.command("build")
def build() -> None:
    """Build or reuse every component (etcd, Kubernetes, kwok, helm, Kafka jars)."""
    script = Path(__file__).resolve().parents[2] / "hack" / "build-stack.sh"
    raise typer.Exit(subprocess.call(["bash", str(script)]))


@stack.command("up")
def up(
    groups: list[str] = typer.Argument(None, help="k8s kafka postgres redis (default: all)"),
    state_dir: Path | None = StateDir,
) -> None:
    """Start the stack (or the named parts), wait until healthy, print how to reach it."""
    from qsr_devstack.processes import StartError
    from qsr_devstack.stack import Stack

    wanted = groups or ALL_GROUPS
    unknown = sorted(set(wanted) - set(ALL_GROUPS))
    if unknown:
        raise typer.BadParameter(f"unknown part(s) {unknown}; choose from {ALL_GROUPS}")
    current = _running(state_dir) or Stack.create(die_with_parent=False)
    _pointer(state_dir).write_text(str(current.state_file))
    for group in wanted:
        typer.echo(f"starting {group} ...", err=True)
        try:
            current.start(group)  # type: ignore[arg-type]
        except StartError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
    _print_env(current.env())
    typer.echo(f"# logs and data: {current.root}", err=True)


@stack.command("down")
def down(state_dir: Path | None = StateDir) -> None:
    """Stop every process of the stack and remove its data."""
    current = _running(state_dir)
    if current is None:
        typer.echo("no stack is running", err=True)
        return
    current.stop()
    _pointer(state_dir).unlink(missing_ok=True)
    typer.echo("stack stopped", err=True)


@stack.command("status")
def status(state_dir: Path | None = StateDir) -> None:
    """Each component's pid, liveness and resident memory."""
    current = _running(state_dir)
    if current is None:
        typer.echo("no stack is running")
        raise typer.Exit(1)
    total = 0
    for name, pid, alive, rss in current.status():
        total += rss
        state = "running" if alive else "STOPPED"
        typer.echo(f"{name:<24} pid {pid:<8} {state:<8} {rss / 2**20:8.1f} MiB")
    typer.echo(f"{'total':<24} {'':<12} {'':<8} {total / 2**20:8.1f} MiB")


@stack.command("env")
def env(state_dir: Path | None = StateDir) -> None:
    """Print `export` lines for the running stack (eval "$(qsr dev stack env)")."""
    current = _running(state_dir)
    if current is None:
        typer.echo("no stack is running", err=True)
        raise typer.Exit(1)
    _print_env(current.env())


def _print_env(values: dict[str, str]) -> None:
    for key, value in values.items():
        typer.echo(f"export {key}={value}")


@app.command("cluster")
def cluster(
    state_dir: Path | None = StateDir,
    operator: bool = typer.Option(True, help="run the operator in the foreground afterwards"),
) -> None:
    """Local cluster mode: the whole stack, the CRDs, examples/ applied, the operator running."""
    import os

    from qsr_devstack import paths

    up(groups=ALL_GROUPS, state_dir=state_dir)
    current = _running(state_dir)
    assert current is not None
    env = {**os.environ, **current.env()}
    repo = Path(__file__).resolve().parents[2]
    kubectl = str(paths.binary("kubectl"))

    def kubectl_run(*args: str) -> None:
        code = subprocess.call([kubectl, *args], env=env)
        if code != 0:
            raise typer.Exit(code)

    kubectl_run("apply", "--server-side", "--field-manager=qsr-dev", "-f", str(repo / "crds"))
    crds = ("crd", "-l", "app.kubernetes.io/part-of=qsr-platform")
    kubectl_run("wait", "--for=condition=Established", "--timeout=60s", *crds)
    kubectl_run("apply", "-f", str(repo / "examples"))
    typer.echo(
        "CRDs installed and examples/ applied; `qsr dev stack down` stops everything", err=True
    )
    if operator:
        typer.echo("running qsr-operator (Ctrl-C stops it; the stack keeps running)", err=True)
        raise typer.Exit(subprocess.call(["qsr-operator"], env=env))
