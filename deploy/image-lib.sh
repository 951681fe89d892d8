# shellcheck shell=bash
# Sourced by the image build scripts (deploy/build-*.sh).

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
