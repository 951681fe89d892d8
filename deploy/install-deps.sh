#!/usr/bin/env bash
# Installs, from Debian's archive, everything FuzzForge needs to build, test and run
# locally: the compiler toolchain, the C libraries, and the services (PostgreSQL,
# RabbitMQ, the Docker engine). Idempotent: installs only what is missing.
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config clang
	libevent-dev librabbitmq-dev libpq-dev libcjson-dev libcurl4-openssl-dev
	uuid-dev libarchive-dev libssl-dev libcmocka-dev
	postgresql rabbitmq-server docker.io busybox-static
	curl ca-certificates python3-jsonschema debootstrap
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Services must not be started by the package scripts: deploy/services.sh starts them.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
