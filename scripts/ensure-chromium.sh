#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser test (tests/browser/).
#
# Playwright cannot download its own browser here, so the test drives /usr/bin/chromium.
# When it is missing and we are root (CI, the dev machines), install it with apt-get.
# Otherwise say why not and carry on: the test then skips with that reason, except under CI=true,
# where it fails.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: $CHROMIUM is missing and cannot be installed here" \
         "(needs root and apt-get); the browser test will not run." >&2
    exit 0
fi

echo "ensure-chromium: installing Debian's chromium and fonts-liberation (apt-get) ..." >&2
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; then
    echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null)" >&2
else
    echo "ensure-chromium: apt-get could not install chromium; the browser test will not run." >&2
fi
