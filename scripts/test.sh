#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, starts PostgreSQL,
# RabbitMQ and the Docker engine, builds (plain and ASan+UBSan), and runs every CTest test in
# both builds. Extra arguments go to ctest (e.g. -R unit, -L integration).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash deploy/install-deps.sh
bash deploy/services.sh start

jobs=$(nproc)
build() { # build <dir> <cmake args...>
	local dir=$1
	shift
	mkdir -p "$dir"
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir/configure.log" 2>&1 ||
		{ cat "$dir/configure.log"; return 1; }
	cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; return 1; }
	echo "built $dir"
}

status=0
build build
(cd build && ctest -j"$jobs" --output-on-failure --timeout 600 "$@") || status=1

if [ "${FF_SKIP_SANITIZE:-0}" != 1 ]; then
	echo "== the same tests under ASan+UBSan =="
	build build-asan -DFF_SANITIZE=ON
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 600 "$@") || status=1
fi
exit $status
