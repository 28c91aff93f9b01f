#!/usr/bin/env bash
# Installs what Nesos needs from the machine's package manager: Debian's nats-server, and
# Debian's chromium for the browser tests (test/browser). Nothing is downloaded from anywhere
# else. Safe to run repeatedly. NESOS_SKIP_CHROMIUM=1 skips chromium.
set -euo pipefail

apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" -eq 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  apt-get install -y -qq "$@" >/dev/null
}

can_apt() {
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1
}

# ---- nats-server (required) -------------------------------------------------------------
if ! command -v nats-server >/dev/null 2>&1; then
  if can_apt; then
    echo "setup: nats-server is missing; installing Debian's package" >&2
    apt_install nats-server
    command -v nats-server >/dev/null 2>&1 || { echo "setup: apt-get installed nats-server but it is not on PATH" >&2; exit 1; }
    echo "setup: installed $(nats-server --version)" >&2
  else
    cat >&2 <<'MSG'
setup: nats-server is not installed, and this script can only install it as root with apt-get.
Install it yourself, then run the command again:
    sudo apt-get install -y nats-server
(or put any nats-server 2.9+ binary on PATH)
MSG
    exit 1
  fi
fi

# ---- chromium (for the browser tests only: never fatal) ------------------------------------
if [ "${NESOS_SKIP_CHROMIUM:-0}" != "1" ] && [ ! -x /usr/bin/chromium ] && [ -z "${NESOS_CHROMIUM:-}" ]; then
  if can_apt; then
    echo "setup: chromium is missing (the browser tests need it); installing Debian's package" >&2
    if apt_install chromium && [ -x /usr/bin/chromium ]; then
      echo "setup: installed $(/usr/bin/chromium --version 2>/dev/null | head -n 1)" >&2
    else
      echo "setup: apt-get could not install chromium; the browser tests will be skipped" >&2
    fi
  else
    cat >&2 <<'MSG'
setup: chromium is not installed, so the browser tests (test/browser) will be skipped.
To run them, install Debian's chromium, then run the tests again:
    sudo apt-get install -y chromium
(or set NESOS_CHROMIUM to a Chromium binary)
MSG
  fi
fi
