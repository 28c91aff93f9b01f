#!/usr/bin/env bash
# Installs what Nesos needs from the machine's package manager: Debian's nats-server.
# Nothing is downloaded from anywhere else. Safe to run repeatedly.
set -euo pipefail

if command -v nats-server >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: nats-server is missing; installing Debian's package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nats-server >/dev/null
  command -v nats-server >/dev/null 2>&1 || { echo "setup: apt-get installed nats-server but it is not on PATH" >&2; exit 1; }
  echo "setup: installed $(nats-server --version)" >&2
  exit 0
fi

cat >&2 <<'MSG'
setup: nats-server is not installed, and this script can only install it as root with apt-get.
Install it yourself, then run the command again:
    sudo apt-get install -y nats-server
(or put any nats-server 2.9+ binary on PATH)
MSG
exit 1
