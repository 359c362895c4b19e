# kubeheat operator image.
#   docker build -t kubeheat:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
# The Helm chart (charts/kubeheat) runs it; `docker run kubeheat:0.1.0 --help` lists the options.
#
# Every dependency comes from requirements.lock (pinned with hashes, compiled from pyproject.toml
# by `make lock` with the same Python version as PYTHON_VERSION here), installed as wheels only;
# kubeheat itself is then built with the locked build backend and installed without resolving
# anything else. The runtime stage gets only the virtualenv and runs as an unprivileged user.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/kubeheat \
    && /opt/kubeheat/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN /opt/kubeheat/bin/pip install --no-deps --no-build-isolation --no-index . \
    && /opt/kubeheat/bin/pip uninstall --yes setuptools wheel \
    && /opt/kubeheat/bin/python -c "import kubeheat.controller.runner" \
    && /opt/kubeheat/bin/kubeheat operator --help > /dev/null

FROM python:${PYTHON_VERSION}-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kubeheat" \
      org.opencontainers.image.description="OpenStack Heat template orchestration as a Kubernetes operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/kubeheat/kubeheat" \
      org.opencontainers.image.documentation="https://github.com/kubeheat/kubeheat/tree/main/charts/kubeheat"
RUN groupadd --system --gid 10001 kubeheat \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
        --shell /usr/sbin/nologin kubeheat
COPY --from=build /opt/kubeheat /opt/kubeheat
ENV PATH=/opt/kubeheat/bin:$PATH \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
# the operator's defaults: --metrics-port (Prometheus /metrics) and --health-port (/healthz)
EXPOSE 8080 8081
ENTRYPOINT ["kubeheat", "operator"]
