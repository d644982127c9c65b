"""terraform/ is in canonical HCL format, checked by OpenTofu built from its Go module."""

from __future__ import annotations

import subprocess
from pathlib import Path

from qsr_devstack import paths

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
ENV = {"TF_CLI_CONFIG_FILE": "/dev/null", "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin"}


def tofu_fmt_check(folder: Path) -> subprocess.CompletedProcess[str]:
    tofu = str(paths.binary("tofu"))
    return subprocess.run(
        [tofu, "fmt", "-check", "-recursive", "-list=true", str(folder)],
        capture_output=True,
        text=True,
        env=ENV,
    )


def test_every_terraform_file_is_canonically_formatted() -> None:
    result = tofu_fmt_check(TERRAFORM)
    assert result.returncode == 0, f"run `tofu fmt -recursive terraform/`:\n{result.stdout}"
    assert any(TERRAFORM.rglob("*.tf"))


def test_the_format_check_catches_a_misformatted_file(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('variable "x" {\ndefault="a"\n  type=string\n}\n')
    result = tofu_fmt_check(tmp_path)
    assert result.returncode != 0
    assert "main.tf" in result.stdout
