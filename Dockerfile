# MaritimeIQ image: the platform's code, the locked Python dependencies (pyspark with
# its spark-submit and spark-class) and the Maven-managed jars. docker-compose.yaml runs
# every MaritimeIQ container from it: Airflow, the Spark master and workers, MLflow and
# the Bronze worker, so drivers and executors share one Python and one set of jars.
#
# Build arguments:
#   MAVEN_PROFILES  e.g. "object-storage": hadoop-aws and the AWS SDK for a lake on s3a://
#   EXTRA_PACKAGES  Python packages beyond the lock, installed under it as a constraint,
#                   e.g. "apache-airflow-providers-celery==3.26.0" (docker-compose.scale.yaml)

# Jars resolved in a build stage of their own: the runtime image carries no Maven.
FROM maven:3.9-eclipse-temurin-17 AS jars
ARG MAVEN_PROFILES=""
WORKDIR /build
COPY jvm/ jvm/
RUN cd jvm && mvn -B -q ${MAVEN_PROFILES:+-P "$MAVEN_PROFILES"} package

FROM python:3.11-slim-bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    MARITIME_HOME=/opt/maritimeiq

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/maritimeiq
ARG EXTRA_PACKAGES=""
COPY requirements.txt ./
RUN pip install "uv==0.13.8" \
 && uv pip install --system -r requirements.txt \
 && if [ -n "$EXTRA_PACKAGES" ]; then uv pip install --system --constraint requirements.txt $EXTRA_PACKAGES; fi

COPY --from=jars /build/var/jars var/jars

COPY . .
# /data (the lake volume) and /opt/airflow exist in the image owned by the runtime user,
# so fresh named volumes mounted there are writable without a chown first.
RUN uv pip install --system --no-deps -e . \
 && useradd --create-home --uid 50000 maritime \
 && mkdir -p var /data /opt/airflow \
 && chown -R maritime var /data /opt/airflow

USER maritime
