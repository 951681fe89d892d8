#!/usr/bin/env bash
# Adds a worker host to a FuzzForge farm: run on the new host, from a clone of this
# repository. It installs and starts the Docker engine if missing (deploy/services.sh),
# builds the worker image (deploy/build-platform-images.sh worker: skipped when up to date),
# checks that PostgreSQL, RabbitMQ and the registry answer from here, then starts the worker
# as a container on this host's engine, restarted with the host, and waits until it consumes.
#   deploy/add-worker.sh --database URL --broker URL --registry HOST:PORT
#                        [--concurrency N] [--pool NAME] [--name NAME] [--docker-host URL]
#   --database     DATABASE_URL of the farm's PostgreSQL (or of its PgBouncer)
#   --broker       AMQP_URL of the farm's RabbitMQ
#                  (both may come from the environment instead, DATABASE_URL and AMQP_URL,
#                  which keeps their passwords out of ps; so may FF_REGISTRY)
#   --registry     the registry the workflow images are pulled from (FF_REGISTRY). A registry
#                  on another host needs TLS, or this engine's daemon.json "insecure-registries"
#                  naming it (a lab only): README § Farm
#   --concurrency  runs at once (FF_WORKER_CONCURRENCY, default 2)
#   --pool         the queue it takes jobs from (FF_WORKER_POOL, default "default")
#   --name         its container's name and worker id (default ff-worker-<hostname>)
#   --docker-host  the engine it drives (default unix:///var/run/docker.sock, this host's);
#                  a unix:// socket is mounted into the container
# Stop it with `docker stop -t 30 NAME` (it drains: running runs may finish for
# FF_WORKER_DRAIN_S, then go back to the queue); remove it with `docker rm NAME`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
database=${DATABASE_URL:-} broker=${AMQP_URL:-} registry=${FF_REGISTRY:-}
concurrency=2 pool=default name=''
docker_host=unix:///var/run/docker.sock
tag=${FF_IMAGE_TAG:-local}

say() { echo "add-worker: $*"; }
die() {
	echo "add-worker: $*" >&2
	exit 1
}
usage() {
	sed -n '7,20p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--database) database=$2 ;;
	--broker) broker=$2 ;;
	--registry) registry=$2 ;;
	--concurrency) concurrency=$2 ;;
	--pool) pool=$2 ;;
	--name) name=$2 ;;
	--docker-host) docker_host=$2 ;;
	*) usage ;;
	esac
	shift 2
done
if [ -z "$database" ] || [ -z "$broker" ] || [ -z "$registry" ]; then usage; fi
if ! [[ $concurrency =~ ^[0-9]+$ ]] || [ "$concurrency" -lt 1 ] || [ "$concurrency" -gt 64 ]; then
	die "--concurrency must be 1 to 64"
fi
[[ $registry =~ ^[A-Za-z0-9.-]+(:[0-9]+)?$ ]] || die "--registry must be host[:port], not '$registry'"
[ -n "$name" ] || name=ff-worker-$(hostname -s)
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "--name '$name' is not a container name"

# host:port of a URL (scheme://[user[:password]@]host[:port][/...]), default port $2
host_port() {
	local rest=${1#*://}
	rest=${rest%%/*}
	rest=${rest##*@}
	[[ $rest == *:* ]] && echo "$rest" || echo "$rest:$2"
}

# reachable <what> <host:port>: a TCP connection within 5 s
reachable() {
	local host=${2%:*} port=${2##*:}
	timeout 5 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null ||
		die "$1 at $2 does not answer from this host: check the address and the firewall"
}

if ! docker version >/dev/null 2>&1; then
	if ! [ -x /usr/sbin/dockerd ] || ! command -v curl >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "no Docker engine or curl here: run as root to install them"
		say "installing docker.io and curl from Debian's archive (apt-get)"
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends docker.io curl >/dev/null; }; then
			die "installing docker.io failed"
		fi
	fi
	say "starting the Docker engine (deploy/services.sh)"
	bash "$root/deploy/services.sh" start docker
fi
reachable PostgreSQL "$(host_port "$database" 5432)"
reachable RabbitMQ "$(host_port "$broker" 5672)"
curl -fsS --max-time 10 -o /dev/null "http://$registry/v2/" 2>/dev/null ||
	curl -fsS --max-time 10 -o /dev/null "https://$registry/v2/" ||
	die "the registry at $registry does not answer /v2/ over HTTP or HTTPS"
say "PostgreSQL, RabbitMQ and the registry answer"

bash "$root/deploy/build-platform-images.sh" worker
docker rm -f "$name" >/dev/null 2>&1 || true
mounts=()
if [[ $docker_host == unix://* ]]; then
	mounts=(-v "${docker_host#unix://}:/var/run/docker.sock")
	docker_host=unix:///var/run/docker.sock
fi
# Host networking: the worker reaches the farm's addresses as this host does. Its secrets
# go through the environment of `docker run`, not its arguments, which ps shows.
DATABASE_URL=$database AMQP_URL=$broker docker run -d --name "$name" \
	--restart unless-stopped --network host \
	-e DATABASE_URL -e AMQP_URL -e "FF_REGISTRY=$registry" -e "DOCKER_HOST=$docker_host" \
	-e "FF_WORKER_ID=$name" -e "FF_WORKER_CONCURRENCY=$concurrency" -e "FF_WORKER_POOL=$pool" \
	"${mounts[@]}" --read-only --tmpfs /tmp --cap-drop ALL --cap-add SETUID --cap-add SETGID \
	--security-opt no-new-privileges:true --stop-timeout 30 \
	"fuzzforge/worker:$tag" >/dev/null
deadline=$(($(date +%s) + 60))
until docker logs "$name" 2>&1 | grep -q 'consuming ff.jobs'; do
	if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ] ||
		[ "$(date +%s)" -ge "$deadline" ]; then
		docker logs --tail 20 "$name" >&2 || true
		die "worker $name is not consuming (its last lines above)"
	fi
	sleep 1
done
say "worker $name consuming pool $pool with $concurrency slots, pulling images from $registry"
