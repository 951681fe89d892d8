#!/usr/bin/env bash
# Builds the image of every built-in workflow under workflows/ (each directory with a
# workflow.json and a Dockerfile), from Debian packages only (no registry needed). An image
# whose build context and base image are unchanged is skipped (deploy/image-lib.sh).
# workflows/shared/ffworkflow.py, the module the Python workflows share, goes into the
# context of each one whose Dockerfile copies it.
#   deploy/build-images.sh [WORKFLOW...]          (default: all)
# Base image: FF_BASE_IMAGE, else the one deploy/build-base-image.sh makes (it runs first).
# Workflows whose image holds a binary of this project (a static one, FROM scratch, listed in
# its image-binaries) get it from FF_BUILD_DIR (default build/). When that has no such
# binary and FF_BUILD_DIR is not set, it is built there with CMake if this machine can
# (deploy/install-deps.sh installs what that needs); else the script says what to run.
# The dev cluster runs this same script in its workflow-images service (docker-compose.yml).
# With FF_REGISTRY (host:port), each image is also pushed to that registry as
# <registry>/<image>, and its digest recorded in FF_IMAGE_PINS (default
# deploy/.images/pins, git-ignored) as a line "<image> sha256:..."; a controller given that
# file (FF_IMAGE_PINS) pins every workflow's image by digest, so every worker pulls the
# same bits (README § Farm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FF_BUILD_DIR:-$root/build}
# shellcheck source=deploy/image-lib.sh
. "$root/deploy/image-lib.sh"
base=''

# find_binary <name>: the path of an executable <name> under the build directory
find_binary() {
	[ -d "$build" ] || return 0
	find "$build" -type f -name "$1" -perm -u+x 2>/dev/null | head -n 1
}

runnable() { local p; p=$(command -v "$1" 2>/dev/null) && [ -x "$p" ]; }

# build_binary <name>: builds the CMake target <name> in build/ (only when FF_BUILD_DIR is
# not set: a directory given is used as it is).
build_binary() {
	local bin=$1 how log
	how="cmake -S . -B build && cmake --build build --target $bin"
	if [ -n "${FF_BUILD_DIR:-}" ]; then
		echo "build-images: $bin is not in FF_BUILD_DIR=$FF_BUILD_DIR: build it there ($how)," \
			"or leave FF_BUILD_DIR unset" >&2
		return 1
	fi
	if ! runnable cmake || ! runnable cc; then
		echo "build-images: $bin must be built first and there is no cmake or C compiler here:" \
			"run deploy/install-deps.sh then $how; or run deploy/compose.sh build, which" \
			"builds it inside an image with no compiler on this machine" >&2
		return 1
	fi
	echo "build-images: building $bin ($how)"
	log=$(mktemp)
	if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$build" -j"$(nproc)" --target "$bin"; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rm -f "$log"
		echo "build-images: building $bin failed (above); deploy/install-deps.sh installs" \
			"what the build needs, or run deploy/compose.sh build, which builds it in an image" >&2
		return 1
	fi
	rm -f "$log"
}

build_one() { # build_one <workflow dir>
	local dir=$1 name image ctx found bin wf_base='' rc=0
	name=$(basename "$dir")
	[ -f "$dir/Dockerfile" ] && [ -f "$dir/workflow.json" ] || return 0
	image=$(sed -n 's/.*"image": *"\([^"]*\)".*/\1/p' "$dir/workflow.json" | head -n 1)
	[ -n "$image" ] || { echo "build-images: $name: no image in workflow.json" >&2; return 1; }
	# only the images built on the Debian base (not those FROM scratch) need it
	if grep -q 'BASE_IMAGE' "$dir/Dockerfile"; then
		[ -n "$base" ] || base=$(ff_base_image)
		wf_base=$base
	fi
	ctx=$(mktemp -d)
	cp -r "$dir/." "$ctx/"
	# the module the Python workflows share, where the Dockerfile takes it
	if grep -q 'ffworkflow\.py' "$dir/Dockerfile"; then cp "$root/workflows/shared/ffworkflow.py" "$ctx/"; fi
	# binaries this project builds for the image, listed one per line in image-binaries
	if [ -f "$dir/image-binaries" ]; then
		while read -r bin; do
			[ -n "$bin" ] || continue
			found=$(find_binary "$bin")
			if [ -z "$found" ]; then
				build_binary "$bin" || { rm -rf "$ctx"; return 1; }
				found=$(find_binary "$bin")
				[ -n "$found" ] || { echo "build-images: no $bin under $build after building it" >&2; rm -rf "$ctx"; return 1; }
			fi
			cp "$found" "$ctx/$bin"
		done <"$dir/image-binaries"
	fi
	ff_image_build build-images "$image" "$ctx" "$wf_base" || rc=$?
	rm -rf "$ctx"
	[ $rc -eq 0 ] && [ -n "${FF_REGISTRY:-}" ] && { push_one "$image" || rc=$?; }
	return $rc
}

# push_one <image>: pushes <image> to FF_REGISTRY and records its digest in the pins file.
push_one() {
	local image=$1 remote="$FF_REGISTRY/$1" digest log
	log=$(mktemp)
	if ! { docker tag "$image" "$remote" && docker push "$remote"; } >"$log" 2>&1; then
		tail -n 5 "$log" >&2
		rm -f "$log"
		echo "build-images: pushing $remote failed (above): is the registry at $FF_REGISTRY up?" >&2
		return 1
	fi
	rm -f "$log"
	digest=$(docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$remote" |
		sed -n "s|^$FF_REGISTRY/${image%:*}@||p" | head -n 1)
	[ -n "$digest" ] || { echo "build-images: the engine reports no digest for $remote" >&2; return 1; }
	pin "$image" "$digest"
	echo "build-images: pushed $remote ($digest)"
}

# pin <image> <digest>: the pins file with this image's line replaced, written atomically
pin() {
	local tmp
	mkdir -p "$(dirname "$pins")"
	tmp=$(mktemp "$pins.XXXXXX")
	if [ -f "$pins" ]; then grep -v "^$1 " "$pins" >"$tmp" || true; fi
	echo "$1 $2" >>"$tmp"
	sort -o "$tmp" "$tmp"
	chmod 644 "$tmp"
	mv -f "$tmp" "$pins"
}

pins=${FF_IMAGE_PINS:-$root/deploy/.images/pins}
if [ $# -gt 0 ]; then
	dirs=()
	for n in "$@"; do
		[ -d "$root/workflows/$n" ] || { echo "build-images: no workflow '$n' in workflows/" >&2; exit 2; }
		dirs+=("$root/workflows/$n")
	done
else
	dirs=("$root"/workflows/*/)
fi
for dir in "${dirs[@]}"; do
	build_one "${dir%/}"
done
