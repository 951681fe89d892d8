#!/usr/bin/env bash
# Builds the four images of the dev cluster (docker-compose.yml), from Debian packages only:
#   fuzzforge/controller, fuzzforge/worker   deploy/images/platform/Dockerfile (context: repo)
#   fuzzforge/postgres, fuzzforge/rabbitmq   deploy/images/{postgres,rabbitmq}/
# tagged $FF_IMAGE_TAG (default local), after making the base image (build-base-image.sh).
# An image whose inputs (the files its build reads, and the base image) are unchanged since
# it was built is skipped: the inputs' digest is kept in the image's ff.context label.
#   deploy/build-platform-images.sh [controller|worker|postgres|rabbitmq]...   (default: all)
# FF_VERBOSE=1 shows docker build's output; otherwise it is shown only when a build fails.
# FF_NO_CACHE=1 rebuilds everything from scratch (e.g. to pick up Debian updates).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tag=${FF_IMAGE_TAG:-local}
base=fuzzforge/debian-base:bookworm
# What the platform Dockerfile copies in (keep in step with its COPY lines).
platform_inputs=(CMakeLists.txt common proto deploy/migrations controller worker cli workflows
	tests deploy/images/platform .dockerignore)

# shellcheck source=deploy/image-lib.sh
. "$root/deploy/image-lib.sh"
bash "$root/deploy/build-base-image.sh"
base_id=$(docker image inspect -f '{{.Id}}' "$base")

inputs_digest() { # inputs_digest <path>... — digest of the files' names and contents
	{
		echo "$base_id"
		find "$@" -type f ! -name '*.o' ! -name '*.swp' ! -path '*/__pycache__/*' -print0 |
			sort -z | xargs -0 -r sha256sum
	} | sha256sum | cut -c1-16
}

# One copy of the sources for both platform images, so that the two are built from the same
# tree even while it is being edited (and the second build finds the first one's layers).
snap='' platform_sum='' platform_fresh=0
trap '[ -z "$snap" ] || rm -rf "$snap"' EXIT
platform_snapshot() {
	[ -z "$snap" ] || return 0
	snap=$(mktemp -d)
	cp -a --parents "${platform_inputs[@]}" "$snap/"
	platform_sum=$(cd "$snap" && inputs_digest "${platform_inputs[@]}")
}

build_one() { # build_one <name>
	local name=$1 image=fuzzforge/$1:$tag sum start log old nocache=${FF_NO_CACHE:-0}
	local -a args
	case $name in
	controller | worker)
		platform_snapshot
		sum=$platform_sum
		args=(-f "$snap/deploy/images/platform/Dockerfile" --target "$name" "$snap")
		# Without the cache once: the other platform image reuses those fresh layers.
		if [ "$platform_fresh" = 1 ]; then nocache=fresh; fi
		[ "$nocache" != 1 ] || platform_fresh=1
		;;
	postgres | rabbitmq)
		sum=$(inputs_digest "deploy/images/$name")
		args=("deploy/images/$name")
		;;
	*) echo "build-platform-images: unknown image '$name'" >&2; return 2 ;;
	esac
	if [ "$nocache" = 1 ]; then
		args=(--no-cache "${args[@]}")
	elif [ "$nocache" = fresh ]; then
		:
	elif [ "$(docker image inspect -f '{{index .Config.Labels "ff.context"}}' "$image" 2>/dev/null)" = "$sum" ]; then
		echo "build-platform-images: $image up to date"
		return 0
	fi
	old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	start=$(date +%s)
	log=$(mktemp)
	if [ "${FF_VERBOSE:-0}" = 1 ]; then
		docker build --network host --label "ff.context=$sum" -t "$image" "${args[@]}" ||
			{ rm -f "$log"; echo "build-platform-images: building $image failed" >&2; return 1; }
	elif ! docker build --network host --label "ff.context=$sum" -t "$image" "${args[@]}" \
		>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		rm -f "$log"
		echo "build-platform-images: building $image failed (output above)" >&2
		return 1
	fi
	rm -f "$log"
	echo "build-platform-images: built $image in $(($(date +%s) - start)) s"
	remove_replaced "$old" "$image"
	case $name in controller | worker) tag_rootfs ;; esac
}

# The stage both platform images copy their files from, tagged so that it is this build's
# cache and not an untagged image left behind by every rebuild (the one it replaces goes).
# Run after a controller or worker build, so every step of it is cached.
tag_rootfs() {
	local image=fuzzforge/platform-rootfs:$tag old out
	old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	out=$(docker build -q --network host -t "$image" \
		-f "$snap/deploy/images/platform/Dockerfile" --target rootfs "$snap" 2>&1) ||
		{ echo "$out" >&2; return 1; }
	remove_replaced "$old" "$image"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(controller worker postgres rabbitmq)
for n in "${names[@]}"; do
	build_one "$n"
done
