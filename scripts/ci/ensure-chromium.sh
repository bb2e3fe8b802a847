#!/usr/bin/env bash
# Browser tests (pages, reports, the API reference) drive Debian's Chromium through
# puppeteer-core, which downloads no browser. Install the Debian package when it is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "--- installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
