#!/usr/bin/env bash
# Builds the images the workflow integration tests run (it_workflows_sast and any other test
# of a built-in workflow): the Debian base image, then the image of every workflows/*/
# (deploy/build-images.sh skips those whose build context is unchanged), timing each step.
# usage: build_workflow_images.sh [BUILD_DIR]
#   BUILD_DIR is where the workflow binaries this project builds are found (FF_BUILD_DIR,
#   default build/), e.g. ff-secret-scan for secret-detection.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ $# -ge 1 ]; then
	export FF_BUILD_DIR=$1
fi
start=$(date +%s)
bash "$root/deploy/build-base-image.sh"
base=$(date +%s)
bash "$root/deploy/build-images.sh"
echo "build_workflow_images: base image $((base - start)) s, workflow images $(($(date +%s) - base)) s"
