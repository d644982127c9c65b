"""HTTP plumbing every service app shares: RFC 9457 problem+json, /healthz, /readyz, /metrics.

Called by each service's app factory at startup (never at import time); resources stay in the app's
own lifespan, which registers readiness checks once its engine or producer exists.

    app = http.service_app(title="loyalty", lifespan=lifespan, domain_errors={UnknownMember: 404})
    http.add_readiness_check(app, "db", lambda: db.ping(engine))   # inside the lifespan
    http.registry_of(app)  # prometheus CollectorRegistry for the service's own metrics
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

import prometheus_client
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
Check = Callable[[], Awaitable[object]]
Lifespan = Callable[[FastAPI], Any]
READINESS_TIMEOUT_S = 2.0


class ProblemError(Exception):
    """An error that is its own problem+json answer. Subclass per kind; `extra` adds members."""

    status: int = 500
    title: str = "Internal Server Error"
    type: str = "about:blank"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(ProblemError):
    status, title = 400, "Bad Request"


class NotFound(ProblemError):
    status, title = 404, "Not Found"


class Conflict(ProblemError):
    status, title = 409, "Conflict"


class Unprocessable(ProblemError):
    status, title = 422, "Unprocessable Content"


def problem(
    status: int, *, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    """A problem+json response (RFC 9457): type, title, status, detail and extension members."""
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def service_app(
    *,
    title: str,
    lifespan: Lifespan | None = None,
    version: str = "0.1.0",
    domain_errors: Mapping[type[Exception], int] | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app with problem+json handlers, health routes and request metrics installed."""
    app = FastAPI(title=title, version=version, lifespan=lifespan, **fastapi_kwargs)
    app.state.qsr_registry = prometheus_client.CollectorRegistry()
    app.state.qsr_checks = {}
    install_problem_handlers(app, domain_errors=domain_errors or {})
    _install_health(app)
    app.add_middleware(_MetricsMiddleware, registry=app.state.qsr_registry)
    return app


def registry_of(app: FastAPI) -> prometheus_client.CollectorRegistry:
    """The app's own Prometheus registry, served at /metrics."""
    registry: prometheus_client.CollectorRegistry = app.state.qsr_registry
    return registry


def add_readiness_check(app: FastAPI, name: str, check: Check) -> None:
    """/readyz answers 200 only while every check returns within the timeout without raising."""
    app.state.qsr_checks[name] = check


def install_problem_handlers(app: FastAPI, *, domain_errors: Mapping[type[Exception], int]) -> None:
    """Map ProblemError, domain errors (class → status), validation and HTTP errors to problems."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem(exc.status, title=exc.title, detail=exc.detail, type_=exc.type, **exc.extra)

    async def on_domain(request: Request, exc: Exception) -> Response:
        status = _status_for(exc, domain_errors)
        return problem(status, title=_reason(status), detail=str(exc), error=type(exc).__name__)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        return problem(422, title="Unprocessable Content", detail=detail, errors=errors)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        response = problem(exc.status_code, title=_reason(exc.status_code), detail=str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Logged with its trace for operators; the client sees no internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, title="Internal Server Error", detail="unexpected error")

    app.add_exception_handler(ProblemError, on_problem)
    for cls in domain_errors:
        app.add_exception_handler(cls, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def _status_for(exc: Exception, domain_errors: Mapping[type[Exception], int]) -> int:
    for cls in type(exc).__mro__:
        if cls in domain_errors:
            return domain_errors[cls]
    return 500


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _install_health(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        results: dict[str, str] = {}
        for name, check in dict(app.state.qsr_checks).items():
            try:
                await asyncio.wait_for(check(), timeout=READINESS_TIMEOUT_S)
                results[name] = "ok"
            except Exception as exc:  # any failure means "not ready", the reason is reported
                results[name] = f"failed: {type(exc).__name__}"
        failed = sorted(n for n, r in results.items() if r != "ok")
        if failed:
            return problem(
                503, title="Service Unavailable", detail=f"not ready: {failed}", checks=results
            )
        return JSONResponse({"status": "ready", "checks": results})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = prometheus_client.generate_latest(registry_of(app))
        return Response(body, media_type=prometheus_client.CONTENT_TYPE_LATEST)


class _MetricsMiddleware:
    """Requests and latency per route template (not the raw path: ids would explode the labels)."""

    def __init__(self, app: ASGIApp, *, registry: prometheus_client.CollectorRegistry) -> None:
        self.app = app
        labels = ("method", "route", "status")
        self.requests = prometheus_client.Counter(
            "http_requests", "HTTP requests served", labels, registry=registry
        )
        self.latency = prometheus_client.Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ("method", "route"),
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_capturing(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_capturing)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - started)
