#!/usr/bin/env bash
# e2e.compose: the dev cluster end to end, through deploy/compose.sh. Brings docker-compose.yml
# up under a project name of its own and a free controller port (building the images if they
# are stale: minutes the first time), scans examples/secrets with secret-detection and checks
# the findings against examples/secrets/EXPECTED.json, scales to 3 workers and has them run a
# batch of scans, scales back to 1, then tears everything down with its volumes — on failure
# too. Every wait is bounded. Its secrets are the ones `up` generates: the test checks that
# `up` prints none of them, that the secrets file is mode 0600, that PostgreSQL and RabbitMQ
# refuse the old fixed password fuzzforge, that every published port (the management UI's
# too) is on 127.0.0.1 only, and that `down -v` removes the file with the volumes.
#   tests/e2e/compose_test.sh [PATH_TO_FF]     (CTest passes the ff client it built)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
compose=$root/deploy/compose.sh
expected=$root/examples/secrets/EXPECTED.json
batch=6

COMPOSE_PROJECT_NAME=ffe2e$$$(date +%s | tail -c 5)
export COMPOSE_PROJECT_NAME
export FF_CONTROLLER_PORT FF_REGISTRY_PORT FF_BALANCER_PORT
# Below the ephemeral range (ip_local_port_range, 32768-60999 here): Docker takes the random
# host ports of the other services from that range, and once took the one picked here (CI:
# "port is already allocated"). The registry's must be fixed too: the engine pushes to it.
free_port() {
	python3 -c '
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for port in random.sample(range(10000, lo), 200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
'
}
FF_CONTROLLER_PORT=$(free_port)
FF_REGISTRY_PORT=$(free_port)
while [ "$FF_REGISTRY_PORT" = "$FF_CONTROLLER_PORT" ]; do FF_REGISTRY_PORT=$(free_port); done
FF_BALANCER_PORT=$(free_port)
while [ "$FF_BALANCER_PORT" = "$FF_CONTROLLER_PORT" ] || [ "$FF_BALANCER_PORT" = "$FF_REGISTRY_PORT" ]; do
	FF_BALANCER_PORT=$(free_port)
done
# Empty: Docker picks free host ports, so this never collides with a cluster already running.
export FF_PG_PORT='' FF_AMQP_PORT='' FF_RABBITMQ_UI_PORT='' FF_PROMETHEUS_PORT=''
# No FF_API_KEY or passwords: `up` generates them into the project's secrets file.
unset FF_API_KEY FF_PG_PASSWORD FF_RABBITMQ_PASSWORD FF_SECRETS_FILE
secrets=$root/deploy/.secrets/$COMPOSE_PROJECT_NAME.env
uplog=$(mktemp)
export FF_UP_TIMEOUT=300 FF_SCAN_TIMEOUT=300 FF_WORKERS=1
export FF_CLI=${1:-$root/build/cli/ff}
base=http://127.0.0.1:$FF_CONTROLLER_PORT/api/v1
t_start=$(date +%s)
torn_down=0

log() { echo "compose_test [$(($(date +%s) - t_start)) s]: $*"; }
fail() {
	echo "compose_test: FAIL: $*" >&2
	exit 1
}

teardown() {
	local rc=$?
	if [ "$torn_down" = 0 ]; then
		[ "$rc" = 0 ] || { timeout 60 bash "$compose" logs --tail=40 >&2 || true; }
		timeout 180 bash "$compose" down -v >/dev/null 2>&1 || true
	fi
	[ -z "${added:-}" ] || docker rm -f "$added" >/dev/null 2>&1 || true
	rm -f "$uplog" "$secrets"
	log "finished with status $rc"
}
trap teardown EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

api() { curl -fsS --max-time 30 -H "Authorization: Bearer $FF_API_KEY" "$@"; }
project_containers() { # project_containers [service] — ids of the project's running containers
	local f=(--filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" --filter status=running)
	[ $# -eq 0 ] || f+=(--filter "label=com.docker.compose.service=$1")
	docker ps -q "${f[@]}"
}

log "project $COMPOSE_PROJECT_NAME, controller on 127.0.0.1:$FF_CONTROLLER_PORT"
t0=$(date +%s)
timeout 1200 bash "$compose" up 2>&1 | tee "$uplog" || fail "deploy/compose.sh up failed"
log "cluster up and ready in $(($(date +%s) - t0)) s (image builds included)"

# 0. The secrets: generated, private, never printed, and the only ones that work.
[ -f "$secrets" ] || fail "no secrets file $secrets after up"
[ "$(stat -c %a "$secrets")" = 600 ] || fail "$secrets has mode $(stat -c %a "$secrets"), not 600"
FF_API_KEY=$(bash "$compose" key) || fail "compose.sh key failed"
export FF_API_KEY
pg_pw=$(sed -n 's/^FF_PG_PASSWORD=//p' "$secrets")
mq_pw=$(sed -n 's/^FF_RABBITMQ_PASSWORD=//p' "$secrets")
for v in FF_API_KEY pg_pw mq_pw; do
	[ -n "${!v}" ] || fail "$v is empty"
	if grep -qF -- "${!v}" "$uplog"; then fail "deploy/compose.sh up printed $v"; fi
done
[ "$FF_API_KEY" != ff_dev_insecure_key ] || fail "the cluster runs with the fixed dev key"
grep -qF "$secrets" "$uplog" || fail "up did not say where the secrets are"
log "secrets: $secrets mode 0600, generated, not in up's output"
pg_id=$(project_containers postgres)
pg_login() { # pg_login <password>: over TCP, where scram-sha-256 applies
	docker exec -e PGPASSWORD="$1" "$pg_id" \
		psql -h 127.0.0.1 -U fuzzforge -d fuzzforge -tAc 'SELECT 1' >/dev/null 2>&1
}
if pg_login fuzzforge; then fail "PostgreSQL accepts the old fixed password fuzzforge"; fi
pg_login "$pg_pw" || fail "PostgreSQL refuses the generated password"
mq_id=$(project_containers rabbitmq)
ui=$(docker port "$mq_id" 15672/tcp) || fail "the management UI is not published"
mq_login() { # mq_login <password>: the HTTP status of the management API
	curl -s --max-time 10 -o /dev/null -w '%{http_code}' -u "fuzzforge:$1" "http://${ui%%$'\n'*}/api/whoami"
}
[ "$(mq_login fuzzforge)" = 401 ] || fail "RabbitMQ's management API does not answer 401 to fuzzforge/fuzzforge"
[ "$(mq_login "$mq_pw")" = 200 ] || fail "RabbitMQ's management API refuses the generated password"
log "PostgreSQL and RabbitMQ refuse fuzzforge/fuzzforge and accept the generated passwords"
# Every published port of every container, the management UI's included, on loopback only.
nports=0
for id in $(project_containers); do
	while read -r line; do
		[ -n "$line" ] || continue
		nports=$((nports + 1))
		[[ ${line#* -> } == 127.0.0.1:* ]] || fail "$(docker inspect -f '{{.Name}}' "$id") publishes $line"
	done < <(docker port "$id")
done
[ "$nports" -ge 4 ] || fail "only $nports published ports found"
log "$nports published ports, all on 127.0.0.1 (management UI: $ui)"
for svc in postgres rabbitmq registry controller worker; do
	[ "$(project_containers "$svc" | wc -l)" -eq 1 ] || fail "$svc is not running"
done
curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$FF_CONTROLLER_PORT/readyz" ||
	fail "/readyz is not 200"
# The key protects the API: no key, no runs.
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$base/runs")
[ "$code" = 401 ] || fail "GET /runs without a key answered $code, not 401"

# The workflow images are in the registry, and the controller pins them by digest.
catalog=$(curl -fsS --max-time 10 "http://127.0.0.1:$FF_REGISTRY_PORT/v2/_catalog") ||
	fail "the registry does not answer /v2/_catalog"
[[ $catalog == *'"fuzzforge/secret-detection"'* ]] ||
	fail "the registry lacks fuzzforge/secret-detection: $catalog"
image=$(api "$base/workflows/secret-detection" | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')
[[ $image == fuzzforge/secret-detection:*@sha256:* ]] ||
	fail "secret-detection's image is not pinned by digest: $image"
log "registry holds $(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["repositories"]))' "$catalog") images; secret-detection runs $image"

# 1. One scan, checked finding by finding against EXPECTED.json.
out=$(mktemp)
[ -x "$FF_CLI" ] || log "no ff client at $FF_CLI: scanning with the controller image's"
timeout 400 bash "$compose" scan "$root/examples/secrets" secret-detection --json >"$out" ||
	fail "scan failed: $(cat "$out")"
python3 - "$out" "$expected" <<'EOF' || fail "findings differ from EXPECTED.json"
import json, sys
doc = json.load(open(sys.argv[1]))
findings = doc["findings"]
state = doc["run"]["state"] if "run" in doc else doc["state"]
want = json.load(open(sys.argv[2]))
key = lambda f: (f["rule_id"], f["path"], f["start_line"])
got = sorted(map(key, findings))
exp = sorted(map(key, want))
print(f"compose_test: run {state}, {len(got)} findings, {len(exp)} expected")
if state != "succeeded" or got != exp:
    print("missing:", sorted(set(exp) - set(got)), "unexpected:", sorted(set(got) - set(exp)))
    sys.exit(1)
EOF
rm -f "$out"
nexpected=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$expected")
# 13 secrets and 2 placeholders reported as notes: a guard against an emptied EXPECTED.json
[ "$nexpected" -eq 15 ] || fail "EXPECTED.json has $nexpected entries, not 15"
log "scan: $nexpected findings, as expected"

# 2. Three workers share a batch of runs.
timeout 180 bash "$compose" scale 3 || fail "scale 3 failed"
n=$(project_containers worker | wc -l)
[ "$n" -eq 3 ] || fail "$n worker containers running, not 3"
# Running containers are not yet consumers: wait until all three have registered.
deadline=$(($(date +%s) + 120))
until [ "$(api "$base/workers" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ws = d["workers"] if isinstance(d, dict) else d
print(sum(1 for w in ws if w["state"] == "active"))')" -ge 3 ]; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "3 workers not active within 120 s"
	sleep 0.5
done
log "3 workers running and active"
tgz=$(mktemp)
tar -C "$root/examples/secrets" -czf "$tgz" .
sha=$(api -H 'Content-Type: application/gzip' --data-binary "@$tgz" "$base/targets" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["sha256"])') || fail "upload failed"
rm -f "$tgz"
ids=()
for ((i = 0; i < batch; i++)); do
	id=$(api -H 'Content-Type: application/json' \
		--data "{\"workflow\":\"secret-detection\",\"target\":\"$sha\",\"labels\":{\"e2e\":\"$i\"}}" \
		"$base/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
		fail "submit $i failed"
	ids+=("$id")
done
t0=$(date +%s)
deadline=$((t0 + 300))
declare -A done_state=() worker_of=()
while [ ${#done_state[@]} -lt $batch ]; do
	for id in "${ids[@]}"; do
		[ -z "${done_state[$id]:-}" ] || continue
		read -r state worker total < <(api "$base/runs/$id" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["state"], r.get("worker") or "-", (r.get("findings_summary") or {}).get("total", -1))') ||
			fail "reading run $id failed"
		case $state in
		succeeded)
			[ "$total" -eq "$nexpected" ] || fail "run $id has $total findings, not $nexpected"
			done_state[$id]=$state worker_of[$id]=$worker
			;;
		failed | timed_out | cancelled) fail "run $id ended $state" ;;
		esac
	done
	[ "$(date +%s)" -lt "$deadline" ] || fail "${#done_state[@]} of $batch runs done after 300 s"
	sleep 0.5
done
nworkers=$(printf '%s\n' "${worker_of[@]}" | sort -u | wc -l)
log "$batch runs succeeded in $(($(date +%s) - t0)) s on $nworkers distinct workers"
# Submitted together, with prefetch = concurrency 2, they can't all go to one worker.
[ "$nworkers" -ge 2 ] || fail "all $batch runs ran on one worker"

# 2b. The metrics profile: Prometheus scrapes the controller and all three workers, and
# sees what they did.
timeout 600 bash "$compose" metrics || fail "compose.sh metrics failed"
prom=$(docker port "$(project_containers prometheus | head -1)" 9090 | head -1)
[ -n "$prom" ] || fail "no Prometheus container with a published port"
promql() { # promql <query>: the first sample's value, or nothing
	curl -fsS --max-time 10 --data-urlencode "query=$1" "http://$prom/api/v1/query" |
		python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}
deadline=$(($(date +%s) + 120))
until [ "$(promql 'count(up{job="fuzzforge-worker"} == 1)')" = 3 ] &&
	[ "$(promql 'up{job="fuzzforge-controller"}')" = 1 ]; do
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "Prometheus did not see the controller and 3 workers up within 120 s"
	sleep 1
done
done_runs=$(promql 'sum(fuzzforge_worker_runs_total{workflow="secret-detection",outcome="done"})')
succeeded=$(promql 'fuzzforge_runs{state="succeeded"}')
if [ "${done_runs:-0}" -lt $((batch + 1)) ] || [ "${succeeded:-0}" -lt $((batch + 1)) ]; then
	fail "Prometheus counted ${done_runs:-no} attempts done and ${succeeded:-no} runs succeeded, not $((batch + 1))"
fi
# README § Metrics' queries are ones Prometheus accepts
while IFS= read -r q; do
	curl -fsS --max-time 10 --data-urlencode "query=$q" "http://$prom/api/v1/query" >/dev/null ||
		fail "Prometheus refused README's query: $q"
done < <(awk '/^```promql/ { on = 1; next } /^```/ { on = 0 } on && !/^#/' "$root/README.md")
log "Prometheus scrapes the controller and 3 workers: $done_runs attempts done, $succeeded runs succeeded"

# 2c. The ha profile: two controllers behind HAProxy. With the first one stopped, the
# balancer keeps answering, and a submission through it (retried under its Idempotency-Key
# while refused, as a client must) runs.
timeout 600 bash "$compose" ha || fail "compose.sh ha failed"
lb=http://127.0.0.1:$FF_BALANCER_PORT/api/v1
first=$(project_containers controller)
docker stop -t 10 "$first" >/dev/null || fail "stopping the first controller failed"
deadline=$(($(date +%s) + 60))
until id=$(api -H 'Content-Type: application/json' -H "Idempotency-Key: e2e-ha-$$" \
	--data "{\"workflow\":\"secret-detection\",\"target\":\"$sha\"}" "$lb/runs" 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'); do
	[ "$(date +%s)" -lt "$deadline" ] || fail "no submission through the balancer within 60 s"
	sleep 0.5
done
deadline=$(($(date +%s) + 180))
until [ "$(api "$lb/runs/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = succeeded ]; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "run $id through the balancer not succeeded within 180 s"
	sleep 0.5
done
docker start "$first" >/dev/null || fail "restarting the first controller failed"
deadline=$(($(date +%s) + 60))
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$FF_CONTROLLER_PORT/readyz"; do
	[ "$(date +%s)" -lt "$deadline" ] || fail "the first controller not ready again within 60 s"
	sleep 0.5
done
log "ha: with one controller stopped, run $id went through HAProxy and succeeded"

# 3. Back to one worker.
timeout 180 bash "$compose" scale 1 || fail "scale 1 failed"
n=$(project_containers worker | wc -l)
[ "$n" -eq 1 ] || fail "$n worker containers running after scale 1"
log "back to 1 worker"

# 3b. A worker host added with deploy/add-worker.sh, given the cluster's published addresses
# as a host elsewhere would be; with the compose workers stopped, it runs the next scan.
added=ffe2e-added-$$ added_name=ffe2e-added-$$
pg_addr=$(docker port "$(project_containers postgres)" 5432 | head -1)
mq_addr=$(docker port "$(project_containers rabbitmq)" 5672 | head -1)
DATABASE_URL="postgresql://fuzzforge:$pg_pw@$pg_addr/fuzzforge" \
	AMQP_URL="amqp://fuzzforge:$mq_pw@$mq_addr/" \
	timeout 300 bash "$root/deploy/add-worker.sh" --name "$added" \
	--registry "127.0.0.1:$FF_REGISTRY_PORT" || fail "add-worker.sh failed"
timeout 180 bash "$compose" scale 0 || fail "scale 0 failed"
id=$(api -H 'Content-Type: application/json' \
	--data "{\"workflow\":\"secret-detection\",\"target\":\"$sha\"}" "$base/runs" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "submit failed"
deadline=$(($(date +%s) + 180))
until read -r state worker < <(api "$base/runs/$id" |
	python3 -c 'import json,sys; r = json.load(sys.stdin); print(r["state"], r.get("worker") or "-")') &&
	[ "$state" = succeeded ]; do
	case ${state:-} in failed | timed_out | cancelled) fail "run $id on the added worker ended $state" ;; esac
	[ "$(date +%s)" -lt "$deadline" ] || fail "run $id not done on the added worker within 180 s"
	sleep 0.5
done
[ "$worker" = "$added" ] || fail "run $id ran on $worker, not on the added worker $added"
docker stop -t 30 "$added" >/dev/null && docker rm "$added" >/dev/null
added=''
log "deploy/add-worker.sh: worker $added_name joined the farm and ran a scan"

# 4. Down with the volumes: nothing of the project is left.
timeout 180 bash "$compose" down -v || fail "down -v failed"
torn_down=1
[ ! -e "$secrets" ] || fail "down -v left $secrets"
left=$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l)
vols=$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l)
if [ "$left" -ne 0 ] || [ "$vols" -ne 0 ]; then
	fail "$left containers and $vols volumes left after down -v"
fi
log "torn down: no container or volume left"
echo "compose_test: PASS in $(($(date +%s) - t_start)) s"
