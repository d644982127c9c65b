# syntax=docker/dockerfile:1
# One image for every component: `qsr serve <service>` (identity, ordering, hub, loyalty) and
# `qsr-operator`. The chart and the operator pick the command; the image only ships the code.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the runtime dependencies at the lock's exact pins and hashes ------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
WORKDIR /src
RUN pip install --no-cache-dir uv==0.13.8 \
 && python -m venv /opt/qsr
COPY pyproject.toml README.md ./
COPY requirements/lock.txt requirements/lock.txt
# The lock also pins the dev tools; the runtime subset is resolved against it as constraints, so
# every version and hash is the lock's, and no test or lint tool reaches the image.
RUN uv pip compile pyproject.toml -c requirements/lock.txt --python-version 3.11 \
      --generate-hashes -o /tmp/runtime-lock.txt \
 && uv pip install --python /opt/qsr/bin/python --require-hashes -r /tmp/runtime-lock.txt
COPY operator/ operator/
COPY services/ services/
COPY devstack/ devstack/
RUN uv pip install --python /opt/qsr/bin/python --no-deps . \
 && /opt/qsr/bin/python -m pip uninstall --yes pip setuptools

# --- runtime: no compiler, no pip, non-root, nothing written outside /tmp ----------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="qsr-platform" \
      org.opencontainers.image.description="Kubernetes-native backend for quick-service restaurant brands: operator and services" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="qsr-platform" \
      org.opencontainers.image.source="https://example.invalid/qsr-platform" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"
# The base image's own pip is a package manager the running service never needs.
RUN python -m pip uninstall --yes pip setuptools wheel \
 && groupadd --system --gid 10001 qsr \
 && useradd --system --uid 10001 --gid qsr --no-create-home --no-log-init --shell /usr/sbin/nologin qsr
COPY --from=build /opt/qsr /opt/qsr
# Bytecode is compiled at build time (UV_COMPILE_BYTECODE); with a read-only root filesystem
# Python must not try to write it, and HOME/TMPDIR point at the one writable mount (/tmp).
ENV PATH=/opt/qsr/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp
WORKDIR /tmp
USER 10001:10001
EXPOSE 8080
CMD ["qsr", "--help"]
