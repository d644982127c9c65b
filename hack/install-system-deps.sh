#!/usr/bin/env bash
# Installs the Debian packages the local stack runs (PostgreSQL 15, Redis 7, Maven, a JDK) when
# they are missing, and checks the toolchains this machine kind provides (Go >= 1.26, Python 3.11).
set -euo pipefail

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
command -v redis-server >/dev/null || need+=(redis-server)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
command -v openssl >/dev/null || need+=(openssl)
command -v pgbench >/dev/null || need+=(postgresql-contrib)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package may start its own cluster and redis on the default ports; the stack
# never uses them (it runs private instances on free ports), so stop them to free memory.
for svc in postgresql redis-server; do
  command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1 || true
done

command -v go >/dev/null || { echo "Go >= 1.26 is required (this machine kind ships it)" >&2; exit 1; }
gov=$(go env GOVERSION); case "$gov" in go1.2[6-9]*|go1.[3-9]*) ;; *) echo "Go >= 1.26 required, found $gov" >&2; exit 1;; esac
command -v python3.11 >/dev/null || { echo "python3.11 is required" >&2; exit 1; }
