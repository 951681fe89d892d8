#!/usr/bin/env bash
# e2e.mcp: `ff mcp` driven by the official MCP TypeScript SDK (tests/e2e/mcp_client.mjs)
# against the platform at FF_URL. The SDK comes from the npm registry, pinned, into the cache
# the builds share (FF_NPM_CACHE, default ~/.cache/fuzzforge/npm). Without node the test is
# skipped (exit 77) unless CI is set: CI must run it.
set -euo pipefail
ff=$1
here=$(cd "$(dirname "$0")" && pwd)
sdk_version=1.32.2
cache=${FF_NPM_CACHE:-$HOME/.cache/fuzzforge/npm}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "mcp_test: node or npm not found" >&2
	[ -n "${CI:-}" ] && exit 1
	exit 77
fi
sdk=$cache/node_modules/@modelcontextprotocol/sdk
if ! grep -q "\"version\": \"$sdk_version\"" "$sdk/package.json" 2>/dev/null; then
	mkdir -p "$cache"
	npm install --prefix "$cache" --no-audit --no-fund --loglevel=error \
		"@modelcontextprotocol/sdk@$sdk_version" >&2
fi
exec node "$here/mcp_client.mjs" "$sdk" "$ff" "$here/../../examples"
