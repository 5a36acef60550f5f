# The one runtime image: billing (api, worker, flower), its dependencies
# (PostgreSQL 15, Redis, HAProxy) and the fault proxy, all from Debian plus a
# host-built wheelhouse (pip cannot reach the package index from containers).
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3 python3-venv postgresql-15 redis-server haproxy ca-certificates curl procps \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /opt/requirements.txt
COPY wheelhouse /opt/wheelhouse
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /opt/wheelhouse -r /opt/requirements.txt \
 && rm -rf /opt/wheelhouse /root/.cache
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/app
COPY etc /etc/billing-chaos
COPY app /app
WORKDIR /app
