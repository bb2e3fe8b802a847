#!/usr/bin/env bash
# The topology (issue 19: `pnpm topology up`, `pnpm test:faults`) puts the registry instances
# behind HAProxy, from Debian's package; install it when missing. Its PostgreSQL clusters use the
# machine's PostgreSQL 15 server tools (initdb, pg_basebackup, pg_ctl), already here.
set -euo pipefail
if [ -x /usr/sbin/haproxy ]; then
  exit 0
fi
echo "--- installing Debian's haproxy for the topology"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends haproxy >/dev/null
/usr/sbin/haproxy -v | head -n 1
