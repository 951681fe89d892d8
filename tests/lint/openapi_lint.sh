#!/bin/bash
# lint.openapi: proto/openapi.json passes Redocly's recommended rules with no error and no
# warning. @redocly/cli comes from the npm registry into a cache shared by the builds
# (FF_NPM_CACHE, default ~/.cache/fuzzforge/npm). Without node, the check is skipped (exit
# 77) unless CI is set: CI must run it.
set -euo pipefail
doc=$(cd "$(dirname "$0")/../.." && pwd)/proto/openapi.json
cache=${FF_NPM_CACHE:-$HOME/.cache/fuzzforge/npm}
if ! command -v npm >/dev/null; then
	echo "openapi_lint: npm not found" >&2
	[ -n "${CI:-}" ] && exit 1
	exit 77
fi
if [ ! -x "$cache/node_modules/.bin/redocly" ]; then
	mkdir -p "$cache"
	npm install --prefix "$cache" --no-audit --no-fund --loglevel=error '@redocly/cli@2' >&2
fi
out=$("$cache/node_modules/.bin/redocly" lint --format=summary "$doc" 2>&1) || {
	echo "$out"
	exit 1
}
echo "$out"
if grep -qE '^(warning|error) ' <<<"$out"; then
	echo "openapi_lint: warnings or errors above" >&2
	exit 1
fi
