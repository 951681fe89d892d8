#!/usr/bin/env bash
# fuzz.<name>.run: fuzzes one libFuzzer harness for SECONDS from a copy of its committed
# corpus, so the corpus in the repository is never written (what the run finds goes to a
# scratch directory, removed afterwards). Fails on a crash, a leak, a sanitizer report, an
# input slower than FF_FUZZ_INPUT_TIMEOUT (default 10 s) or an out-of-memory; the input that
# did it is kept in ARTIFACT_DIR and printed (hex), with libFuzzer's report.
#   tests/fuzz/run_fuzzer.sh FUZZER CORPUS_DIR SECONDS ARTIFACT_DIR
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 FUZZER CORPUS_DIR SECONDS ARTIFACT_DIR" >&2; exit 2; }
fuzzer=$1 corpus=$2 seconds=$3 artifacts=$4
name=$(basename "$fuzzer")
[ -x "$fuzzer" ] || { echo "run_fuzzer: $fuzzer is not built" >&2; exit 1; }
[ -n "$(ls -A "$corpus" 2>/dev/null)" ] || { echo "run_fuzzer: no corpus in $corpus" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ff-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$artifacts"
mkdir -p "$work/corpus" "$artifacts"
cp -R "$corpus/." "$work/corpus/"
# Leaks count as failures; a UBSan report stops the run (-fno-sanitize-recover) with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
(cd "$work" && "$fuzzer" -max_total_time="$seconds" -timeout="${FF_FUZZ_INPUT_TIMEOUT:-10}" \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
	corpus) >"$work/log" 2>&1 || rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 || true)
found=$(($(find "$work/corpus" -type f | wc -l) - $(find "$corpus" -type f | wc -l)))
if [ "$rc" -ne 0 ]; then
	tail -n 80 "$work/log"
	for f in "$artifacts"/*; do
		[ -f "$f" ] || continue
		echo "run_fuzzer: input kept in $f ($(stat -c %s "$f") bytes):"
		od -An -tx1 -v "$f" | head -n 40
	done
	echo "run_fuzzer: $name FAILED (exit $rc) after ${execs:-?} executions" >&2
	exit 1
fi
echo "run_fuzzer: $name ran ${seconds} s: ${execs:-?} executions (${speed:-?}/s), ${cov:-cov: ?}," \
	"$found new corpus inputs (discarded), no crash or leak"
