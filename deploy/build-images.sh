#!/usr/bin/env bash
# Builds the image of every built-in workflow under workflows/ (each directory with a
# workflow.json and a Dockerfile), from Debian packages only (no registry needed). An image
# whose build context is unchanged is skipped. workflows/shared/ffworkflow.py, the module the
# Python workflows share, goes into the context of each one whose Dockerfile copies it.
# Workflows whose image holds a binary of this project (a static one, FROM scratch) get it
# from the build directory: set FF_BUILD_DIR (default build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FF_BUILD_DIR:-$root/build}
# shellcheck source=deploy/image-lib.sh
. "$root/deploy/image-lib.sh"

build_one() { # build_one <workflow dir>
	local dir=$1 name image ctx sum out old
	name=$(basename "$dir")
	[ -f "$dir/Dockerfile" ] && [ -f "$dir/workflow.json" ] || return 0
	image=$(sed -n 's/.*"image": *"\([^"]*\)".*/\1/p' "$dir/workflow.json" | head -n 1)
	[ -n "$image" ] || { echo "build-images: $name: no image in workflow.json" >&2; return 1; }
	ctx=$(mktemp -d)
	cp -r "$dir/." "$ctx/"
	# the module the Python workflows share, where the Dockerfile takes it
	if grep -q 'ffworkflow\.py' "$dir/Dockerfile"; then cp "$root/workflows/shared/ffworkflow.py" "$ctx/"; fi
	# binaries this project builds for the image, listed one per line in image-binaries
	if [ -f "$dir/image-binaries" ]; then
		while read -r bin; do
			[ -n "$bin" ] || continue
			found=$(find "$build" -type f -name "$bin" -perm -u+x | head -n 1)
			[ -n "$found" ] || { echo "build-images: $name needs $bin: build it first" >&2; return 1; }
			cp "$found" "$ctx/$bin"
		done <"$dir/image-binaries"
	fi
	sum=$(cd "$ctx" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)
	if [ "$(docker image inspect -f '{{index .Config.Labels "ff.context"}}' "$image" 2>/dev/null)" = "$sum" ]; then
		echo "build-images: $image up to date"
	else
		old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
		out=$(docker build --network host -q --label "ff.context=$sum" -t "$image" "$ctx" 2>&1) ||
			{ echo "$out" >&2; rm -rf "$ctx"; return 1; }
		echo "build-images: built $image"
		remove_replaced "$old" "$image"
	fi
	rm -rf "$ctx"
}

for dir in "$root"/workflows/*/; do
	build_one "${dir%/}"
done
