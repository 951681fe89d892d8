#!/usr/bin/env bash
# Makes fuzzforge/debian-base:bookworm, the base of every Debian-based image of the project,
# without any container registry: debian:bookworm-slim when the engine has it (or, with
# FF_PULL_BASE=1, can pull it: off by default, so that nothing reaches out to a registry),
# else a minimal bookworm from `debootstrap --variant=minbase` from Debian's archive,
# imported with `docker import`. Skips the work when the image exists.
set -euo pipefail
image=fuzzforge/debian-base:bookworm
mirror=${FF_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$image" >/dev/null 2>&1; then
	echo "build-base-image: $image up to date"
	exit 0
fi
if docker image inspect debian:bookworm-slim >/dev/null 2>&1 ||
	{ [ "${FF_PULL_BASE:-0}" = 1 ] && timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; }; then
	docker tag debian:bookworm-slim "$image"
	echo "build-base-image: $image is debian:bookworm-slim"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "build-base-image: needs debootstrap (deploy/install-deps.sh)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
	{ tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Keep the image small: no apt lists, caches or docs.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
	"$root"/usr/share/man/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "build-base-image: built $image with debootstrap in $(($(date +%s) - start)) s"
