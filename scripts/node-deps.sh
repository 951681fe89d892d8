#!/usr/bin/env bash
# Installs the tests' npm packages (e2e.mcp's MCP SDK client) into tests/e2e/node_modules,
# exactly as tests/e2e/package-lock.json pins them (npm ci). Idempotent: nothing is fetched
# when node_modules was installed from this very lock. Node.js and npm come from
# deploy/install-deps.sh.
set -euo pipefail
dir=$(cd "$(dirname "$0")/../tests/e2e" && pwd)
stamp=$dir/node_modules/.ff-package-lock.json # the lock node_modules was installed from
if cmp -s "$dir/package-lock.json" "$stamp"; then
	exit 0
fi
echo "node-deps: npm ci in tests/e2e" >&2
# stdout is for the caller (a test's output): npm's own lines go to stderr
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
cp "$dir/package-lock.json" "$stamp"
