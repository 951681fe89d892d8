#!/usr/bin/env bash
# deploy.compose_secrets: the dev cluster's secrets without starting it. Sources
# deploy/compose.sh for its functions, with the secrets file in a temporary directory, and
# checks that:
#   - the first call creates it mode 0600 (in a 0700 directory) under the loosest umask, never
#     readable by others on the way (no chmod after the fact; the file renamed into place is
#     already 0600), with random URL-safe values, and prints none of them;
#   - a second call reuses it unchanged; a looser mode is put back to 0600 on load;
#   - values set in the environment win, and at creation are what the file records;
#   - data volumes without a secrets file are refused rather than given new passwords;
#   - `compose.sh key` prints the key; docker-compose.yml publishes every port on 127.0.0.1
#     only, and no service is on the host's network (the rendered config too, when a compose
#     is installed, which also shows the file's values reach it and the environment wins).
# Needs no cluster; Docker and Compose only for the checks that say so.
#   tests/e2e/compose_secrets_test.sh
# compose.sh is sourced in subshells on purpose (its globals stay there), which shellcheck
# reports for every name the two share:
# shellcheck disable=SC2030,SC2031
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
compose=$root/deploy/compose.sh
work=$(mktemp -d)
project=ffsecrets$$
vol=
cleanup() {
	rm -rf "$work"
	[ -z "$vol" ] || docker volume rm "$vol" >/dev/null 2>&1 || true
}
trap cleanup EXIT
unset FF_PG_PASSWORD FF_RABBITMQ_PASSWORD FF_API_KEY FF_SECRETS_FILE
export COMPOSE_PROJECT_NAME=$project
checks=0

fail() {
	echo "compose_secrets_test: FAIL: $*" >&2
	exit 1
}
ok() {
	checks=$((checks + 1))
	echo "compose_secrets_test: ok: $*"
}
mode() { stat -c %a "$1"; }
value() { sed -n "s/^$2=//p" "$1"; } # value <file> <var>

# make_secrets in a subshell under umask 000, where chmod is refused and mv records the mode
# of what it renames: the file must be private from its first byte. $1: the secrets file.
generate() {
	(
		umask 000
		FF_SECRETS_FILE=$1
		# shellcheck source=deploy/compose.sh
		. "$compose"
		# shellcheck disable=SC2317 # called by make_secrets
		chmod() {
			echo "chmod $*" >>"$work/chmod.log"
			return 1
		}
		mv() {
			local a
			for a in "$@"; do [ ! -f "$a" ] || stat -c %a "$a" >>"$work/mv.log"; done
			command mv "$@"
		}
		make_secrets
	)
}

# 1. Created 0600, with no window.
f=$work/secrets/$project.env
out=$(generate "$f" 2>&1) || fail "make_secrets failed: $out"
[ -f "$f" ] || fail "no secrets file at $f"
[ "$(mode "$f")" = 600 ] || fail "secrets file mode $(mode "$f"), not 600"
[ "$(mode "$(dirname "$f")")" = 700 ] || fail "secrets directory mode $(mode "$(dirname "$f")"), not 700"
[ ! -e "$work/chmod.log" ] || fail "the file was chmod-ed after its creation: $(cat "$work/chmod.log")"
[ "$(sort -u "$work/mv.log")" = 600 ] || fail "the file renamed into place had mode $(cat "$work/mv.log")"
[ "$(find "$(dirname "$f")" -type f | wc -l)" -eq 1 ] || fail "temporary files left: $(ls -a "$(dirname "$f")")"
ok "created mode 0600 in a 0700 directory under umask 000, renamed into place already 0600"

pg=$(value "$f" FF_PG_PASSWORD) mq=$(value "$f" FF_RABBITMQ_PASSWORD) key=$(value "$f" FF_API_KEY)
[[ $pg =~ ^[0-9a-f]{48}$ ]] || fail "FF_PG_PASSWORD is not 48 hex digits"
[[ $mq =~ ^[0-9a-f]{48}$ ]] || fail "FF_RABBITMQ_PASSWORD is not 48 hex digits"
[[ $key =~ ^ff_[0-9a-f]{48}$ ]] || fail "FF_API_KEY is not ff_ and 48 hex digits"
[ "$pg" != "$mq" ] || fail "the two passwords are the same"
for v in "$pg" "$mq" "$key"; do
	[[ $out != *"$v"* ]] || fail "make_secrets printed a secret: $out"
done
ok "random URL-safe passwords and key, none printed ($out)"

# 2. Reused: a second call changes nothing; load exports the values; a loose mode is fixed.
sum=$(sha256sum "$f")
generate "$f" >/dev/null 2>&1 || fail "second make_secrets failed"
[ "$(sha256sum "$f")" = "$sum" ] || fail "the second call changed the secrets file"
ok "reused unchanged by a second call"
command chmod 644 "$f"
got=$(
	FF_SECRETS_FILE=$f
	# shellcheck source=deploy/compose.sh
	. "$compose"
	load_secrets 2>/dev/null
	echo "$FF_PG_PASSWORD $FF_RABBITMQ_PASSWORD $FF_API_KEY"
)
[ "$got" = "$pg $mq $key" ] || fail "load_secrets exported other values"
[ "$(mode "$f")" = 600 ] || fail "a secrets file left mode 644 by someone is still $(mode "$f") after load"
ok "load_secrets exports the file's values and puts a loose mode back to 0600"

# 3. The environment wins, on load and at creation.
got=$(
	FF_SECRETS_FILE=$f FF_PG_PASSWORD=mine
	# shellcheck source=deploy/compose.sh
	. "$compose"
	load_secrets
	echo "$FF_PG_PASSWORD $FF_RABBITMQ_PASSWORD"
)
[ "$got" = "mine $mq" ] || fail "FF_PG_PASSWORD from the environment did not win over the file"
f2=$work/secrets/given.env
FF_API_KEY=ff_given generate "$f2" >/dev/null 2>&1 || fail "make_secrets with FF_API_KEY set failed"
[ "$(value "$f2" FF_API_KEY)" = ff_given ] || fail "the file did not record the FF_API_KEY given at creation"
[[ $(value "$f2" FF_PG_PASSWORD) =~ ^[0-9a-f]{48}$ ]] || fail "no generated FF_PG_PASSWORD next to a given key"
ok "environment values win over the file, and are what a new file records"

# 4. `compose.sh key` prints the key from the file (and only that).
[ "$(FF_SECRETS_FILE=$f bash "$compose" key 2>/dev/null)" = "$key" ] || fail "compose.sh key did not print the file's key"
ok "compose.sh key prints the key"

# 5. Volumes without their secrets file keep their passwords: refused, not overwritten.
if docker version >/dev/null 2>&1; then
	vol=${project}_pgdata
	docker volume create "$vol" >/dev/null
	f3=$work/secrets/orphan.env
	if out=$(generate "$f3" 2>&1); then fail "make_secrets made new passwords for existing volumes"; fi
	[ ! -e "$f3" ] || fail "a secrets file was written for existing volumes"
	[[ $out == *"down -v"* ]] || fail "the refusal does not say what to do: $out"
	FF_PG_PASSWORD=old FF_RABBITMQ_PASSWORD=old generate "$f3" >/dev/null 2>&1 ||
		fail "make_secrets refused existing volumes although both passwords were given"
	[ "$(value "$f3" FF_PG_PASSWORD)" = old ] || fail "the given password was not recorded"
	docker volume rm "$vol" >/dev/null
	vol=
	ok "existing volumes without a secrets file: refused unless their passwords are given"
else
	echo "compose_secrets_test: skip: no Docker engine for the volume check"
fi

# 6. Every published port on 127.0.0.1, in the file and in compose's rendering of it.
loopback_ports() { # reads compose YAML (short port syntax); fails on a port not on 127.0.0.1
	awk '
	/^[[:space:]]*ports:[[:space:]]*$/ { inports = 1; ind = match($0, /[^ ]/); next }
	/^[[:space:]]*network_mode:[[:space:]]*"?host"?[[:space:]]*$/ { print "host network: " $0; bad++ }
	inports && /^[[:space:]]*-/ {
		item = $0; sub(/^[[:space:]]*-[[:space:]]*/, "", item); gsub(/["\047]/, "", item); n++
		if (item !~ /^127\.0\.0\.1:/) { print "not on loopback: " item; bad++ }
		next
	}
	inports && /[^[:space:]]/ && match($0, /[^ ]/) <= ind { inports = 0 }
	END { print n + 0 " published ports"; exit (bad > 0 || n < 4) }'
}
out=$(loopback_ports <"$root/docker-compose.yml") || fail "docker-compose.yml: $out"
ok "docker-compose.yml: $out, all on 127.0.0.1, no host network"
rendered() { # rendered <compose command...>: its config with $f's secrets, FF_PG_PASSWORD=mine
	(
		export FF_PG_PORT='' # a free port, as e2e.compose has it: still on 127.0.0.1
		export FF_SECRETS_FILE=$f FF_PG_PASSWORD=mine
		# shellcheck source=deploy/compose.sh
		. "$compose"
		load_secrets
		"$@" -p "$project" -f "$root/docker-compose.yml" config "${cfg_args[@]}"
	)
}
cfg_args=()
if docker-compose version >/dev/null 2>&1; then
	cfg=$(rendered docker-compose) || fail "docker-compose config failed"
	out=$(loopback_ports <<<"$cfg") || fail "rendered config: $out"
	[[ $cfg == *"postgresql://fuzzforge:mine@postgres"* ]] || fail "the environment's FF_PG_PASSWORD is not in DATABASE_URL"
	[[ $cfg == *"amqp://fuzzforge:$mq@rabbitmq"* ]] || fail "the file's FF_RABBITMQ_PASSWORD is not in AMQP_URL"
	[[ $cfg == *"FF_API_KEY: $key"* ]] || fail "the file's FF_API_KEY is not the controller's"
	ok "docker-compose config: $out on 127.0.0.1; the file's values and the environment's reach compose"
elif docker compose version >/dev/null 2>&1; then
	cfg=$(rendered docker compose) || fail "docker compose config failed"
	out=$(python3 -c '
import json, sys
bad = [f"{n}:{p.get(\"published\")}" for n, s in json.load(sys.stdin)["services"].items()
       for p in s.get("ports", []) if p.get("host_ip") != "127.0.0.1"]
print("not on loopback:", bad) if bad else print("ok")
sys.exit(1 if bad else 0)' < <(cfg_args=(--format json) rendered docker compose)) || fail "rendered config: $out"
	[[ $cfg == *"postgresql://fuzzforge:mine@postgres"* ]] || fail "the environment's FF_PG_PASSWORD is not in DATABASE_URL"
	[[ $cfg == *"amqp://fuzzforge:$mq@rabbitmq"* ]] || fail "the file's FF_RABBITMQ_PASSWORD is not in AMQP_URL"
	ok "docker compose config: every port on 127.0.0.1; the file's values and the environment's reach compose"
else
	echo "compose_secrets_test: skip: no compose to render the config"
fi
echo "compose_secrets_test: PASS ($checks checks)"
