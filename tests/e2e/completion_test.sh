#!/usr/bin/env bash
# ff completion bash|zsh: the scripts load, bash completes commands (after --profile NAME
# too) and each command's own options, files elsewhere; zsh parses its script. The scripts
# are made from the command table, so every command must be in them.
set -euo pipefail
ff=$1
fail() { echo "completion_test: $*" >&2; exit 1; }

complete_bash() { # words... -> the completions of the last word
	bash -c 'source <("$0" completion bash) || exit 9
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ff
		printf "%s\n" "${COMPREPLY[@]}"' "$ff" "$@"
}

[ "$(complete_bash ff sc)" = scan ] || fail "ff sc<TAB> is not scan: $(complete_bash ff sc)"
[ "$(complete_bash ff --profile ci fin)" = findings ] || fail "--profile NAME fin<TAB>"
complete_bash ff scan --sa | grep -x >/dev/null -- --sarif || fail "ff scan --sa<TAB> lacks --sarif"
complete_bash ff logs - | grep -x >/dev/null -- --follow || fail "ff logs -<TAB> lacks --follow"
if complete_bash ff logs - | grep -x >/dev/null -- --sarif; then fail "ff logs offers --sarif"; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
touch "$dir/report.sarif"
complete_bash ff findings x --baseline "$dir/rep" | grep -x >/dev/null "$dir/report.sarif" ||
	fail "no file completion"
for c in $("$ff" help | awk '/^commands:/{on=1; next} /^$/{on=0} on{print $1}'); do
	complete_bash ff "$c" | grep -x >/dev/null -- "$c" || fail "bash does not complete $c"
	"$ff" completion zsh | grep "^		'$c:" >/dev/null || fail "zsh lacks $c"
done
"$ff" completion zsh >"$dir/_ff"
zsh -n "$dir/_ff" || fail "the zsh script does not parse"
if "$ff" completion fish 2>/dev/null; then fail "fish accepted"; fi
echo "completion_test: bash and zsh completion ok"
