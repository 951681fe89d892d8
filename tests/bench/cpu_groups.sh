#!/usr/bin/env bash
# cpu_groups — puts the services a bench measures into CPU accounting groups of their own, so
# that bench_runs can say where each run's CPU goes (engine, PostgreSQL, RabbitMQ, and the
# controller and worker it starts, which it moves into theirs itself). Not a test; root.
#   tests/bench/cpu_groups.sh           make the groups and move the running services in
#   tests/bench/cpu_groups.sh remove    move them back and remove the groups
# cgroup v1 (a cpuacct hierarchy) or v2. Processes started later by a service (containerd's
# shims, PostgreSQL's backends) are in its group too; containers have cgroups of their own.
set -euo pipefail
if [ -d /sys/fs/cgroup/cpuacct ]; then root=/sys/fs/cgroup/cpuacct; else root=/sys/fs/cgroup; fi
declare -A members=(
	[engine]="dockerd containerd containerd-shim" # comm, cut at 15 characters
	[postgres]="postgres"
	[rabbitmq]="beam.smp epmd erl_child_setup inet_gethost"
	[controller]=""
	[worker]=""
)
move() { # move <cgroup dir> <process names...>
	local dir=$1 name pid
	shift
	for name in "$@"; do
		for pid in $(pgrep -x "$name" || true); do
			echo "$pid" >"$dir/cgroup.procs" 2>/dev/null || true
		done
	done
}
case ${1:-make} in
make)
	for g in "${!members[@]}"; do
		mkdir -p "$root/ff-bench-$g"
		# shellcheck disable=SC2086 # the names are words
		move "$root/ff-bench-$g" ${members[$g]}
		echo "cpu_groups: $root/ff-bench-$g: $(wc -l <"$root/ff-bench-$g/cgroup.procs") processes"
	done
	;;
remove)
	for g in "${!members[@]}"; do
		dir=$root/ff-bench-$g
		[ -d "$dir" ] || continue
		while read -r pid; do echo "$pid" >"$root/cgroup.procs" 2>/dev/null || true; done <"$dir/cgroup.procs"
		rmdir "$dir"
	done
	;;
*) echo "usage: $0 [make|remove]" >&2; exit 2 ;;
esac
