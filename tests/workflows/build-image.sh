#!/usr/bin/env bash
# Builds fuzzforge/test-busybox:1, the image of the test workflows, from Debian's static
# busybox (package busybox-static). Skips the build when the image is up to date.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
image=fuzzforge/test-busybox:1
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp -r "$here/image/." "$ctx/"
cp /bin/busybox "$ctx/busybox"
sum=$(cd "$ctx" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "ff.context"}}' "$image" 2>/dev/null)" = "$sum" ]; then
	echo "build-image: $image up to date"
	exit 0
fi
out=$(docker build -q --label "ff.context=$sum" -t "$image" "$ctx" 2>&1) || { echo "$out" >&2; exit 1; }
echo "build-image: built $image"
