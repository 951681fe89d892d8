#!/usr/bin/env bash
# e2e.mcp: `ff mcp` driven by the official MCP TypeScript SDK (tests/e2e/mcp_client.mjs)
# against the platform at FF_URL. The SDK is the one tests/e2e/package-lock.json pins, in
# tests/e2e/node_modules: scripts/node-deps.sh installs it (scripts/test.sh runs it first;
# here it is a no-op then, and installs it for a `ctest -R e2e.mcp` in a fresh clone).
# Without node or npm the test is skipped (exit 77) unless CI is set: CI must run it.
set -euo pipefail
ff=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "mcp_test: node or npm not found (deploy/install-deps.sh installs them)" >&2
	[ -n "${CI:-}" ] && exit 1
	exit 77
fi
bash "$here/../../scripts/node-deps.sh"
exec node "$here/mcp_client.mjs" "$ff" "$here/../../examples"
