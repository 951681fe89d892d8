#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, starts PostgreSQL,
# RabbitMQ and the Docker engine, and runs CTest in three builds:
#   build/        plain: every test, the lint checks (lint.clang_format, lint.shellcheck) too
#   build-asan/   ASan+UBSan: every test but the lint checks (they read only the sources)
#   build-fuzz/   clang, FF_FUZZ=ON: each libFuzzer harness (-fsanitize=fuzzer,address,
#                 undefined) fuzzes for FF_FUZZ_SECONDS (60) from a copy of its corpus, two at a
#                 time (fuzz.<name>.run; a crash or leak fails), and the corpora replay
# Extra arguments go to every ctest run (e.g. -R unit, -L integration). FF_SKIP_SANITIZE=1 or
# FF_SKIP_FUZZ=1 leaves out a build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash deploy/install-deps.sh
bash scripts/node-deps.sh
bash deploy/services.sh start

jobs=$(nproc)
build() { # build <dir> <cmake args...> [--target <target>]
	local dir=$1 target=()
	shift
	local args=("$@")
	if [ ${#args[@]} -ge 2 ] && [ "${args[-2]}" = --target ]; then
		target=(--target "${args[-1]}")
		args=("${args[@]:0:${#args[@]}-2}")
	fi
	mkdir -p "$dir"
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${args[@]}" >"$dir/configure.log" 2>&1 ||
		{ cat "$dir/configure.log"; return 1; }
	cmake --build "$dir" -j"$jobs" "${target[@]}" >"$dir/build.log" 2>&1 || { cat "$dir/build.log"; return 1; }
	echo "built $dir"
}

status=0
build build
(cd build && ctest -j"$jobs" --output-on-failure --timeout 600 "$@") || status=1

if [ "${FF_SKIP_SANITIZE:-0}" != 1 ]; then
	echo "== the same tests under ASan+UBSan =="
	build build-asan -DFF_SANITIZE=ON
	(
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
		cd build-asan && ctest -j"$jobs" -LE '^lint$' --output-on-failure --timeout 600 "$@"
	) || status=1
fi

if [ "${FF_SKIP_FUZZ:-0}" != 1 ]; then
	echo "== fuzzing: each harness for ${FF_FUZZ_SECONDS:-60} s (clang, -fsanitize=fuzzer,address,undefined) =="
	# only the harnesses and what they link; two fuzzers at a time (one core each)
	build build-fuzz -DCMAKE_C_COMPILER=clang -DFF_FUZZ=ON -DFF_FUZZ_SECONDS="${FF_FUZZ_SECONDS:-60}" \
		--target fuzz
	(cd build-fuzz && ctest -j2 -L '^fuzz' --output-on-failure "$@") || status=1
fi
exit $status
