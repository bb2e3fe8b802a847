#!/usr/bin/env bash
# The alert rules in docs/prometheus are checked and unit tested with promtool
# (test/operations.test.ts). Debian ships it in the `prometheus` package; install it when missing.
# Without it the test still checks the rules' structure, so a failed install is not fatal.
set -uo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
echo "--- installing Debian's prometheus (promtool) for the alert rule tests"
export DEBIAN_FRONTEND=noninteractive
(apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null && promtool --version) ||
  echo "promtool could not be installed: the alert rules get a structural check only" >&2
exit 0
