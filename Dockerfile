# syntax=docker/dockerfile:1
# recordgate: the gateway as a slim, non-root container.
#
#   docker build -t recordgate .
#   docker run --rm -p 8080:8080 \
#     -v "$PWD/config/gateway.yaml:/etc/recordgate/gateway.yaml:ro" \
#     -e SUGAR_USER=... -e SUGAR_PASSWORD=... -e BILLING_API_KEY=... recordgate
#
# The config is a mounted file; secrets stay out of it as ${VAR} references filled from the
# container's environment. Another path: `docker run ... recordgate serve --config /path.yaml`.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---- build: turn the project and its dependencies into wheels ---------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Only what the wheel is made of, so edits to tests or docs do not bust this layer's cache.
# (README.m[d]: the long description, copied when present without failing when absent.)
COPY pyproject.toml README.m[d] ./
COPY gateway/ gateway/
COPY connectors/ connectors/
# Wheels for every dependency too: the runtime stage then installs offline, compiler-free.
# The [tracing] extra (OpenTelemetry) is in the image; it stays off unless OTEL_* asks for it.
# The [fast] extra (uvloop): `gateway serve` runs on its event loop.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[tracing,fast]"

# ---- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="recordgate" \
      org.opencontainers.image.description="One Records API in front of SugarCRM, Slingr and UiPath Data Service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="python:3.11.13-slim-bookworm"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RECORDGATE_HEALTH_URL=http://127.0.0.1:8080/healthz

# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 recordgate \
 && useradd --system --uid 10001 --gid recordgate --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin recordgate \
 && mkdir -p /etc/recordgate

# Bind-mount the wheels instead of copying them, so they never become a layer of the image.
# VERSION must be pyproject.toml's version: the install fails otherwise, so the label cannot lie.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels "recordgate[tracing,fast]==${VERSION}"

# Reference copy of every config key; the real config is mounted at gateway.yaml.
COPY config/gateway.example.yaml /etc/recordgate/gateway.example.yaml

USER 10001:10001
WORKDIR /tmp
EXPOSE 8080

# The slim image has no curl; the interpreter it already carries does the probe. A non-2xx answer
# or no answer raises, which exits 1 (unhealthy). Set RECORDGATE_HEALTH_URL if you change the port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['RECORDGATE_HEALTH_URL'], timeout=4)"]

# Stopping: on SIGTERM the gateway drains for server.drainTimeout (25 s), then cancels reads but
# lets every write already sent finish (each within server.requestTimeout, 60 s); a second SIGTERM
# only shortens the drain. Docker's default 10 s before SIGKILL is too short for that: run with
# `docker stop --time 90` / compose `stop_grace_period: 90s` (deploy/compose.yaml) / Kubernetes
# `terminationGracePeriodSeconds: 95` (deploy/kubernetes: drainTimeout + requestTimeout + its 5 s
# preStop pause). See README, Operations.
STOPSIGNAL SIGTERM

ENTRYPOINT ["gateway"]
CMD ["serve", "--config", "/etc/recordgate/gateway.yaml"]
