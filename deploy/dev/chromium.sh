#!/usr/bin/env bash
# Installs Debian's chromium package, which the admin console's browser tests
# (hub/admin/console) drive headless through chromedp at /usr/bin/chromium. Without it
# those tests skip. Idempotent: an installed chromium is left alone.
# Usage: deploy/dev/chromium.sh   (as root, or with sudo available)
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
	echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present) at /usr/bin/chromium"
	exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "chromium: apt-get not found; install Chromium at /usr/bin/chromium by hand" >&2; exit 1; }
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "chromium: run as root or install sudo" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-noto-cjk
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null) installed at /usr/bin/chromium"
