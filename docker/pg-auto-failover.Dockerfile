# PostgreSQL 15 with pg_auto_failover (the failover manager of docker-compose.topology.yml), from
# the PostgreSQL project's Debian repository that the official image already has configured.
# Citus 13.2.2 is the last release for PostgreSQL 15; the registry runs on 15 everywhere.
FROM postgres:15-bookworm
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-15-auto-failover \
  && rm -rf /var/lib/apt/lists/*
USER postgres
ENV PGDATA=/var/lib/postgresql/pgaf
WORKDIR /var/lib/postgresql
