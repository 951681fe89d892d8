#!/usr/bin/env bash
# Builds fuzzforge/test-busybox:1, the image of the test workflows, from Debian's static
# busybox (package busybox-static). Skips the build when the image is up to date
# (deploy/image-lib.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/image-lib.sh
. "$here/../../deploy/image-lib.sh"
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp -r "$here/image/." "$ctx/"
cp /bin/busybox "$ctx/busybox"
ff_image_build build-image fuzzforge/test-busybox:1 "$ctx" ""
