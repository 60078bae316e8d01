#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (Playwright drives it through
# executable_path=/usr/bin/chromium; Playwright's own browser downloads are not used).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ ! -x "$CHROMIUM" ]]; then
    if [[ "$(id -u)" -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "powerlunch needs Chromium for browser tests: run as root 'apt-get install -y --no-install-recommends chromium'" >&2
        exit 1
    fi
    echo "Installing chromium with apt-get..." >&2
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if [[ ! -x "$CHROMIUM" ]]; then
    echo "chromium was installed but $CHROMIUM is missing" >&2
    exit 1
fi

echo "$CHROMIUM: $("$CHROMIUM" --version 2>/dev/null || echo 'version unknown')"
