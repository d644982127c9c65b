"""`qsr serve <service>` (the container entry point) wires tracing and logs before serving."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from qsr_cli import serve
from qsr_kit import telemetry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """What `serve` hands to uvicorn; uvicorn itself is not started."""
    captured: dict[str, Any] = {}
    monkeypatch.chdir(tmp_path)  # the services' default SQLite files land here
    for service in ("LOYALTY", "ORDERING", "HUB"):
        monkeypatch.setenv(f"QSR_{service}_CONFIG_DIR", str(EXAMPLES))
    monkeypatch.setenv("QSR_LOG_FORMAT", "json")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: captured.update(app=app, **kwargs))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield captured
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("service", list(serve.Service), ids=str)
def test_served_app_is_instrumented(served: dict[str, Any], service: serve.Service) -> None:
    serve.serve(service, host="127.0.0.1", port=8080)
    assert served["app"]._is_instrumented_by_opentelemetry
    FastAPIInstrumentor.uninstrument_app(served["app"])


def test_serve_logs_json_when_asked(served: dict[str, Any]) -> None:
    serve.serve(serve.Service.IDENTITY, host="127.0.0.1", port=8080)
    FastAPIInstrumentor.uninstrument_app(served["app"])
    formatters = [type(h.formatter) for h in logging.getLogger().handlers]
    assert formatters == [telemetry.JsonFormatter]
