#!/usr/bin/env bash
# engine_calls — what each Docker Engine API call of one platform run costs, measured with
# curl over the engine's socket: the calls the raw floor makes (create, start, wait, remove)
# and those the container contract adds (volumes, the helper container that receives the
# target through the archive endpoint, reading /results back). Not a test: it prints the
# median of each call over ROUNDS rounds (default 10), with the engine's CPU for it when
# tests/bench/cpu_groups.sh has put the engine in a group of its own. Needs
# fuzzforge/test-busybox:1 (tests/workflows/build-image.sh) and a running engine.
#   tests/bench/engine_calls.sh [ROUNDS]
set -euo pipefail
rounds=${1:-10}
sock=${DOCKER_SOCK:-/var/run/docker.sock}
api=http://localhost/v1.41
image=fuzzforge/test-busybox:1
n=ff-bench-calls-$$
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; curl -s -o /dev/null --unix-socket "$sock" -X DELETE "$api/containers/$n?force=1" || true' EXIT
mkdir -p "$tmp/tree/target" "$tmp/tree/results"
echo 'int x;' >"$tmp/tree/target/a.c"
chmod 777 "$tmp/tree/results"
tar -C "$tmp/tree" -cf "$tmp/target.tar" target results

# The engine's CPU per call too, when tests/bench/cpu_groups.sh has put it in a group.
engine_cpu=
for f in /sys/fs/cgroup/cpuacct/ff-bench-engine/cpuacct.usage /sys/fs/cgroup/ff-bench-engine/cpu.stat; do
	[ -r "$f" ] && engine_cpu=$f && break
done
engine_cpu_us() { # the engine group's CPU so far, in µs
	case $engine_cpu in
	*cpuacct.usage) echo $(($(cat "$engine_cpu") / 1000)) ;;
	*) awk '$1 == "usage_usec" { print $2 }' "$engine_cpu" ;;
	esac
}

call() { # call <label> <curl args...>: appends the call's time in ms to $tmp/<label>
	local label=$1 code cpu0
	shift
	[ -z "$engine_cpu" ] || cpu0=$(engine_cpu_us)
	code=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --unix-socket "$sock" "$@")
	case ${code%% *} in 2* | 404) ;; *) echo "engine_calls: $label answered '${code%% *}'" >&2; exit 1 ;; esac
	awk -v t="${code#* }" 'BEGIN { printf "%.2f\n", t * 1000 }' >>"$tmp/$label"
	[ -z "$engine_cpu" ] || awk -v t=$(($(engine_cpu_us) - cpu0)) 'BEGIN { printf "%.2f\n", t / 1000 }' >>"$tmp/$label.cpu"
}
post() { # post <label> <path> <json body>
	call "$1" -X POST -H 'Content-Type: application/json' -d "$3" "$api$2"
}

for ((i = 0; i < rounds; i++)); do
	call leftover-check -X DELETE "$api/containers/$n-gone?force=1"
	post volume-create /volumes/create "{\"Name\":\"$n-t\"}"
	post volume-create /volumes/create "{\"Name\":\"$n-r\"}"
	post helper-create "/containers/create?name=$n-copy" "{\"Image\":\"$image\",\"Entrypoint\":[\"/nonexistent\"],\"HostConfig\":{\"Binds\":[\"$n-t:/target\",\"$n-r:/results\"],\"NetworkMode\":\"none\"}}"
	call archive-put -X PUT -H 'Content-Type: application/x-tar' --data-binary "@$tmp/target.tar" "$api/containers/$n-copy/archive?path=/"
	call helper-remove -X DELETE "$api/containers/$n-copy?force=1"
	post create "/containers/create?name=$n" "{\"Image\":\"$image\",\"Cmd\":[\"/bin/true\"],\"NetworkDisabled\":true,\"HostConfig\":{\"Binds\":[\"$n-t:/target:ro\",\"$n-r:/results\"],\"NetworkMode\":\"none\",\"ReadonlyRootfs\":true,\"CapDrop\":[\"ALL\"]}}"
	call start -X POST "$api/containers/$n/start"
	call wait -X POST "$api/containers/$n/wait"
	call archive-get "$api/containers/$n/archive?path=/results"
	call remove -X DELETE "$api/containers/$n?force=1"
	call volume-remove -X DELETE "$api/volumes/$n-t"
	call volume-remove -X DELETE "$api/volumes/$n-r"
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%8.2f", v[int((NR + 1) / 2)] }'; }
echo "median ms per call over $rounds rounds (the floor's calls marked *)${engine_cpu:+, with the CPU ms the engine spent on it}"
for label in leftover-check volume-create helper-create archive-put helper-remove create start wait archive-get remove volume-remove; do
	mark=' '
	case $label in create | start | wait | remove) mark='*' ;; esac
	printf "  %s %-15s %s" "$mark" "$label" "$(median "$tmp/$label")"
	[ -z "$engine_cpu" ] || printf "  cpu %s" "$(median "$tmp/$label.cpu")"
	printf "  (n=%d)\n" "$(wc -l <"$tmp/$label")"
done
