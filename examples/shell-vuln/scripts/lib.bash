# Helpers sourced by other scripts: properly quoted, no findings expected.
log() {
	printf '%s %s\n' "$(date +%T)" "$*" >&2
}

die() {
	log "$@"
	exit 1
}
