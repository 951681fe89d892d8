#!/usr/bin/env bash
# Installs, from Debian's archive, everything FuzzForge needs to build, test and run
# locally: the compiler toolchain, the C libraries, the checks' tools, and the services
# (PostgreSQL, RabbitMQ, the Docker engine). Idempotent: installs only what is missing.
set -euo pipefail

PKGS=(
	# build: gcc and CMake; clang for the fuzz build (scripts/test.sh)
	build-essential cmake pkg-config clang
	# the fuzz build: libFuzzer and the sanitizer runtimes, llvm-symbolizer for its stacks
	libclang-rt-dev llvm
	# the libraries the platform links
	libevent-dev librabbitmq-dev libpq-dev libcjson-dev libcurl4-openssl-dev libhttp-parser-dev zlib1g-dev
	uuid-dev libarchive-dev nettle-dev libssl-dev libcmocka-dev
	# the services, and the test workflows' image (busybox)
	postgresql rabbitmq-server docker.io busybox-static
	# lint.clang_format and lint.shellcheck (scripts/lint.sh); zsh parses ff's completion
	clang-format shellcheck zsh
	# readiness checks, SARIF schema checks, the offline base image
	curl ca-certificates python3-jsonschema debootstrap
	# e2e.ci_examples: the CI examples' YAML, and the jq their steps use
	python3-yaml jq
	# integration.it_metrics: promtool check metrics (and the compose metrics profile)
	prometheus
	# workflows/secret-detection/bench.sh: the scanner's CPU time
	time
	# integration.it_balancer's balancer and integration.it_farm's registry
	haproxy docker-registry
)
# e2e.mcp's client (scripts/node-deps.sh installs its npm packages): Node.js and npm. Judged
# by the commands, not the packages: a Node.js from elsewhere (nodesource's, which carries
# its own npm) must not be replaced with Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	PKGS+=(nodejs npm)
fi

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
