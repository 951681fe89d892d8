# shellcheck shell=bash
# Sourced by the image build scripts (deploy/build-*.sh, tests/workflows/build-image.sh): the
# one copy of "rebuild an image only when its inputs changed".

# The base of every Debian-based image: each such Dockerfile starts
#   ARG BASE_IMAGE=debian:bookworm-slim
#   FROM ${BASE_IMAGE}
# so that plain `docker compose up` builds on any machine that can pull Debian's image, and
# the scripts here pass the image deploy/build-base-image.sh makes without any registry
# (debian:bookworm-slim when the engine has it, else debootstrap). FF_BASE_IMAGE overrides.
FF_OFFLINE_BASE=fuzzforge/debian-base:bookworm

# ff_base_image: prints the base image to build on, making the offline one first when
# FF_BASE_IMAGE is not set.
ff_base_image() {
	if [ -n "${FF_BASE_IMAGE:-}" ]; then
		echo "$FF_BASE_IMAGE"
		return 0
	fi
	bash "$(dirname "${BASH_SOURCE[0]}")/build-base-image.sh" >&2 || return 1
	echo "$FF_OFFLINE_BASE"
}

# ff_context_digest <dir> [<base image>]: 16 hex digits over the names and contents of the
# files under <dir> (build litter left out: *.o, *.swp, __pycache__) and the id of <base
# image>, so that a new base rebuilds what is built on it.
ff_context_digest() {
	local dir=$1 base=${2:-} base_id=''
	if [ -n "$base" ]; then
		base_id=$(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null || echo "absent $base")
	fi
	{
		echo "base: $base_id"
		(cd "$dir" && find . -type f ! -name '*.o' ! -name '*.swp' ! -path '*/__pycache__/*' \
			-print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
	} | sha256sum | cut -c1-16
}

# remove_replaced <old image id> <image>: once <image> has been rebuilt, removes the build it
# replaced, which would otherwise stay behind untagged after every rebuild. Kept if it still
# has a tag or a container uses it.
remove_replaced() {
	local old=$1 image=$2
	[ -n "$old" ] || return 0
	[ "$old" != "$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" ] || return 0
	[ -z "$(docker image inspect -f '{{join .RepoTags ""}}' "$old" 2>/dev/null)" ] || return 0
	docker rmi "$old" >/dev/null 2>&1 || true
}

# ff_image_build [--force] [--no-cache] <who> <image> <context dir> <base image or ""> \
#                [docker build options...]
# Builds <image> from <context dir> unless the digest of the context and the base
# (ff_context_digest), kept in the image's ff.context label, says it is up to date. With a
# base image, passes it as the BASE_IMAGE build argument. --force builds even so (with the
# cache); --no-cache builds from scratch. docker build's output is shown only when it fails
# (FF_VERBOSE=1: always). Says what it did, prefixed with "<who>: "; removes the image the
# build replaces.
ff_image_build() {
	local force=0 nocache=()
	while [ $# -gt 0 ]; do
		case $1 in
		--force) force=1 ;;
		--no-cache) force=1 nocache=(--no-cache) ;;
		*) break ;;
		esac
		shift
	done
	local who=$1 image=$2 ctx=$3 base=$4 sum old start log
	shift 4
	local args=("$@")
	sum=$(ff_context_digest "$ctx" "$base")
	if [ "$force" = 0 ] &&
		[ "$(docker image inspect -f '{{index .Config.Labels "ff.context"}}' "$image" 2>/dev/null)" = "$sum" ]; then
		echo "$who: $image up to date"
		return 0
	fi
	[ -z "$base" ] || args+=(--build-arg "BASE_IMAGE=$base")
	old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	start=$(date +%s)
	if [ "${FF_VERBOSE:-0}" = 1 ]; then
		docker build --network host "${nocache[@]}" --label "ff.context=$sum" -t "$image" \
			"${args[@]}" "$ctx" || { echo "$who: building $image failed" >&2; return 1; }
	else
		log=$(mktemp)
		if ! docker build --network host "${nocache[@]}" --label "ff.context=$sum" -t "$image" \
			"${args[@]}" "$ctx" >"$log" 2>&1; then
			tail -n 40 "$log" >&2
			rm -f "$log"
			echo "$who: building $image failed (output above)" >&2
			return 1
		fi
		rm -f "$log"
	fi
	echo "$who: built $image in $(($(date +%s) - start)) s"
	remove_replaced "$old" "$image"
}
