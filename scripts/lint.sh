#!/usr/bin/env bash
# The conventions, checked by tools (CTest runs each as lint.<check>):
#   scripts/lint.sh [clang-format|shellcheck]...     (default: both)
#   - clang-format: every tracked *.c / *.h matches .clang-format (`clang-format --dry-run
#     -Werror`); examples/ is left out: those are scan samples, not our code, and nothing
#     generated is tracked (the migrations' C file is made in the build directory). Fix a
#     file with `clang-format -i FILE`.
#   - shellcheck: every tracked shell script (*.sh, *.bash, or a sh/bash shebang) is clean
#     under `shellcheck -x`, except examples/shell-vuln/, the shell-lint workflow's sample,
#     whose findings are deliberate.
# Both tools come from Debian's archive (deploy/install-deps.sh installs them). Exit status 0
# when every check passes; the files that fail are listed. FF_LINT_VERBOSE=1 prints each
# finding in full.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { echo "lint: $*"; }

# Tracked files (a fresh clone has no others); outside a git checkout, every file.
tracked() {
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$root" ls-files -z
	else
		find . -path ./.git -prune -o -path './build*' -prune -o -type f -printf '%P\0'
	fi
}

c_files() {
	tracked | while IFS= read -r -d '' f; do
		case $f in
		examples/*) ;;
		*.c | *.h) [ -f "$f" ] && printf '%s\0' "$f" ;;
		esac
	done
}

shell_files() {
	local first
	tracked | while IFS= read -r -d '' f; do
		[ -f "$f" ] || continue
		case $f in
		examples/shell-vuln/*) continue ;;
		*.sh | *.bash) printf '%s\0' "$f"; continue ;;
		esac
		IFS= read -r first <"$f" 2>/dev/null || true
		if [[ $first =~ ^#!.*(/|[[:space:]])(ba|da|k)?sh([[:space:]]|$) ]]; then
			printf '%s\0' "$f"
		fi
	done
}

need() { # need <tool>
	command -v "$1" >/dev/null 2>&1 && return 0
	say "$1 not found: install it with deploy/install-deps.sh (Debian package $1)" >&2
	return 1
}

check_clang_format() {
	need clang-format || return 1
	local -a files bad=()
	local f n
	mapfile -d '' files < <(c_files)
	for f in "${files[@]}"; do
		if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
			bad+=("$f")
			if [ "${FF_LINT_VERBOSE:-0}" = 1 ]; then clang-format --dry-run -Werror "$f" || true; fi
		fi
	done
	if [ ${#bad[@]} -eq 0 ]; then
		say "clang-format: ${#files[@]} C files match .clang-format"
		return 0
	fi
	for f in "${bad[@]}"; do
		n=$(clang-format --dry-run "$f" 2>&1 | grep -c 'warning:' || true)
		echo "  $f: $n lines to reformat"
	done
	say "clang-format: ${#bad[@]} of ${#files[@]} C files do not match .clang-format" \
		"(clang-format -i FILE fixes one; FF_LINT_VERBOSE=1 shows each)" >&2
	return 1
}

check_shellcheck() {
	need shellcheck || return 1
	local -a files
	local out
	mapfile -d '' files < <(shell_files)
	if out=$(shellcheck -x "${files[@]}" 2>&1); then
		say "shellcheck: ${#files[@]} shell scripts clean"
		return 0
	fi
	if [ "${FF_LINT_VERBOSE:-0}" = 1 ] || [ "$(printf '%s\n' "$out" | wc -l)" -le 200 ]; then
		printf '%s\n' "$out"
	else
		printf '%s\n' "$out" | head -n 200
		echo "  ... (FF_LINT_VERBOSE=1 shows all)"
	fi
	say "shellcheck: findings in $(printf '%s\n' "$out" | grep -c '^In .* line ') places of ${#files[@]} scripts" >&2
	return 1
}

[ $# -gt 0 ] || set -- clang-format shellcheck
status=0
for check in "$@"; do
	case $check in
	clang-format) check_clang_format || status=1 ;;
	shellcheck) check_shellcheck || status=1 ;;
	*) echo "usage: $0 [clang-format|shellcheck]..." >&2; exit 2 ;;
	esac
done
exit $status
