#!/usr/bin/env bash
# `pnpm test:citus` (issue 19): the registry's tests on Citus. Builds Citus into the machine's
# PostgreSQL 15 if it is missing (../shared/tools/build-citus.sh), brings the Citus topology up
# (`pnpm topology up --citus`: coordinator and two workers on loopback, no registry instance),
# runs vitest.citus.config.ts (test/citus, the store's tests and the whole end-to-end suite) with
# TEST_DATABASE_URL at the coordinator, so every PostgreSQL test database is a Citus database,
# and brings the topology down again (its data removed). Exits non-zero when a test fails.
#
# Environment: NIR_CITUS_PORT_BASE (5440: coordinator, workers on the next ports) and
# NIR_CITUS_DIR (a new directory under /tmp) as for `pnpm topology`; vitest arguments pass through
# (e.g. `pnpm test:citus test/citus`).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -f /usr/lib/postgresql/15/lib/citus.so ]; then
  # The vendored source sits beside the project (../shared); a clean clone elsewhere (CI's, in a
  # temporary directory) finds it through NIR_SHARED_DIR or the workplace's /work/shared.
  shared="${NIR_SHARED_DIR:-}"
  for candidate in "$shared" ../shared /work/shared; do
    if [ -n "$candidate" ] && [ -f "$candidate/tools/build-citus.sh" ]; then shared=$candidate; break; fi
  done
  echo "--- building Citus ($shared/tools/build-citus.sh)"
  bash "$shared/tools/build-citus.sh"
fi

export NIR_CITUS_PORT_BASE="${NIR_CITUS_PORT_BASE:-5440}"
# Under /tmp: the clusters run as the postgres user, who cannot enter a private (0700) clone.
export NIR_CITUS_DIR="${NIR_CITUS_DIR:-$(mktemp -d /tmp/nir-citus-test-XXXXXX)}"
export NIR_CITUS_HTTP_PORT=0

down() {
  echo "--- Citus topology down"
  pnpm --silent topology down --citus --remove || true
}
trap down EXIT

echo "--- Citus topology up (coordinator on $NIR_CITUS_PORT_BASE)"
pnpm --silent topology up --citus

echo "--- tests on Citus"
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$NIR_CITUS_PORT_BASE/postgres"
export NIR_REQUIRE_POSTGRES=1
pnpm exec vitest run --config vitest.citus.config.ts "$@"
