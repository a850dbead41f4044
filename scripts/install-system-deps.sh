#!/usr/bin/env bash
# Installs the Debian packages the integration tests need, only when they are missing:
# PostgreSQL (catalog on a real server), Chromium (gallery tests), docker-compose (validates
# docker-compose.yml without an engine). Safe to run repeatedly; quick when all are present.
set -uo pipefail
need=()
command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-system-deps: not root; tests needing ${need[*]} will be skipped" >&2; exit 0
  fi
fi
echo "install-system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/tmp/wmgen-apt.log 2>&1; then
  echo "install-system-deps: apt-get failed (see /tmp/wmgen-apt.log); dependent tests will be skipped" >&2
  tail -5 /tmp/wmgen-apt.log >&2
fi
exit 0
