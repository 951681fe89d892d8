#!/usr/bin/env bash
# Builds the images of the dev cluster (docker-compose.yml), from Debian packages only:
#   fuzzforge/controller, fuzzforge/worker   deploy/images/platform/Dockerfile (context: repo)
#   fuzzforge/workflow-images                the same Dockerfile: the one-shot service that
#                                            builds the workflow images (deploy/build-images.sh)
#   fuzzforge/postgres, fuzzforge/rabbitmq   deploy/images/{postgres,rabbitmq}/
#   fuzzforge/registry                       deploy/images/registry/ (Debian's docker-registry)
#   fuzzforge/haproxy                        deploy/images/haproxy/ (the ha profile; only
#                                            when named)
#   fuzzforge/prometheus                     deploy/images/prometheus/ (the metrics profile;
#                                            only when named)
# tagged $FF_IMAGE_TAG (default local), on the base image FF_BASE_IMAGE, else the one
# deploy/build-base-image.sh makes (it runs first). An image whose inputs (the files its
# build reads, and the base image) are unchanged since it was built is skipped: the inputs'
# digest is kept in the image's ff.context label (deploy/image-lib.sh).
#   deploy/build-platform-images.sh [controller|worker|workflow-images|postgres|rabbitmq|
#                                    registry|haproxy|prometheus]...  (default: all but
#                                    haproxy and prometheus)
# FF_VERBOSE=1 shows docker build's output; otherwise it is shown only when a build fails.
# FF_NO_CACHE=1 rebuilds everything from scratch (e.g. to pick up Debian updates).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tag=${FF_IMAGE_TAG:-local}
# What the platform Dockerfile copies in (keep in step with its COPY lines).
platform_inputs=(CMakeLists.txt common proto deploy/migrations controller worker cli workflows
	tests deploy/images/platform deploy/build-images.sh deploy/image-lib.sh
	deploy/build-base-image.sh .dockerignore)

# shellcheck source=deploy/image-lib.sh
. "$root/deploy/image-lib.sh"
base=$(ff_base_image)

# One copy of the sources for the platform images, so that they are built from the same tree
# even while it is being edited (and each build finds the previous one's layers).
snap='' platform_fresh=0
trap '[ -z "$snap" ] || rm -rf "$snap"' EXIT
platform_snapshot() {
	[ -z "$snap" ] || return 0
	snap=$(mktemp -d)
	cp -a --parents "${platform_inputs[@]}" "$snap/"
}

build_one() { # build_one <name>
	local name=$1 image=fuzzforge/$1:$tag before
	local -a opts=()
	[ "${FF_NO_CACHE:-0}" != 1 ] || opts=(--no-cache)
	case $name in
	controller | worker | workflow-images)
		platform_snapshot
		# Without the cache once: the other platform images reuse those fresh layers.
		if [ "$platform_fresh" = 1 ]; then opts=(--force); fi
		[ "${FF_NO_CACHE:-0}" != 1 ] || platform_fresh=1
		before=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
		ff_image_build "${opts[@]}" build-platform-images "$image" "$snap" "$base" \
			-f "$snap/deploy/images/platform/Dockerfile" --target "$name"
		# a new controller or worker: tag the build stage it came from
		if [ "$name" != workflow-images ] &&
			[ "$before" != "$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" ]; then
			tag_rootfs
		fi
		;;
	postgres | rabbitmq | registry | haproxy | prometheus)
		ff_image_build "${opts[@]}" build-platform-images "$image" "deploy/images/$name" "$base"
		;;
	*) echo "build-platform-images: unknown image '$name'" >&2; return 2 ;;
	esac
}

# The stage the platform images copy their files from, tagged so that it is this build's
# cache and not an untagged image left behind by every rebuild (the one it replaces goes).
# Run after a controller or worker build, so every step of it is cached.
tag_rootfs() {
	local image=fuzzforge/platform-rootfs:$tag old out
	old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	out=$(docker build -q --network host -t "$image" --build-arg "BASE_IMAGE=$base" \
		-f "$snap/deploy/images/platform/Dockerfile" --target rootfs "$snap" 2>&1) ||
		{ echo "$out" >&2; return 1; }
	remove_replaced "$old" "$image"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(controller worker workflow-images postgres rabbitmq registry)
for n in "${names[@]}"; do
	build_one "$n"
done
