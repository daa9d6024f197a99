# MaritimeIQ image: the platform's code, locked Python dependencies and Maven-managed
# jars baked in. Used by docker-compose.yaml for Airflow, MLflow and the workers.
FROM python:3.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    MARITIME_HOME=/opt/maritimeiq

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless maven make procps curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/maritimeiq
COPY requirements.txt ./
RUN pip install "uv==0.13.8" \
 && uv pip install --system -r requirements.txt

COPY jvm/ jvm/
RUN cd jvm && mvn -B -q package && rm -rf /root/.m2

COPY . .
RUN uv pip install --system --no-deps -e . \
 && useradd --create-home --uid 50000 maritime \
 && mkdir -p var && chown -R maritime var

USER maritime
