# The hub's image: `docker build -t justishub/hub:0.1.0 .` (deploy/kubernetes/hub.yaml runs it).
# Two stages: the first builds a virtual environment with the hub installed, the second copies
# only that environment and the routing data into a slim image that runs as a user of its own.
# Nothing secret goes into the image: keys, passwords and certificates come from Kubernetes
# Secrets at run time (see deploy/kubernetes/hub.yaml). Nor does the development tooling
# (`hubdev`: bench, demo samples, the local cluster): it is never copied, so the wheel built here
# holds the runtime alone, and `hub` offers the runtime's commands only.

FROM python:3.12-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/justishub
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY adapters ./adapters
COPY hub ./hub
RUN /opt/justishub/bin/pip install .

FROM python:3.12-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 justishub \
 && useradd --system --uid 10001 --gid justishub --home-dir /var/lib/justishub \
      --shell /usr/sbin/nologin justishub \
 && mkdir -p /var/lib/justishub \
 && chown justishub:justishub /var/lib/justishub
COPY --from=build /opt/justishub /opt/justishub
# The routing policy and the registers: data the image ships, read once at start-up.
COPY deploy/policy /opt/justishub/deploy/policy
COPY deploy/reference /opt/justishub/deploy/reference
ENV PATH=/opt/justishub/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HUB_ENV=production \
    HUB_DATA_DIR=/var/lib/justishub \
    HUB_ROUTING__POLICY_PATH=/opt/justishub/deploy/policy/routing.toml \
    HUB_ROUTING__MUNICIPALITIES_PATH=/opt/justishub/deploy/reference/municipalities.csv \
    HUB_ROUTING__UNITS_PATH=/opt/justishub/deploy/reference/units.csv
USER 10001:10001
WORKDIR /var/lib/justishub
EXPOSE 8080
ENTRYPOINT ["hub"]
CMD ["run"]
