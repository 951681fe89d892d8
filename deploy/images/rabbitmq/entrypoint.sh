#!/bin/sh
# Entrypoint of fuzzforge/rabbitmq: writes rabbitmq.conf from the environment and runs the
# broker in the foreground.
#   RABBITMQ_USER      the administrator created at first start (default fuzzforge)
#   RABBITMQ_PASSWORD  its password (default fuzzforge)
# The user is created only when the data volume is new: changing these later has no effect
# on an existing volume (drop it with `deploy/compose.sh down -v`).
# Other arguments run as a command instead (e.g. rabbitmqctl).
set -eu
: "${RABBITMQ_USER:=fuzzforge}" "${RABBITMQ_PASSWORD:=fuzzforge}"

if [ $# -gt 0 ]; then
	exec "$@"
fi

# Clients connect from other containers, so no user is limited to loopback (the default
# limits `guest`, which is not created here). The port is published on 127.0.0.1 only.
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
listeners.tcp.default = 5672
management.tcp.port = 15672
loopback_users = none
default_vhost = /
default_user = $RABBITMQ_USER
default_pass = $RABBITMQ_PASSWORD
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.console = true
log.console.level = info
log.file = false
CONF
chmod 600 /etc/rabbitmq/rabbitmq.conf
exec /usr/lib/rabbitmq/bin/rabbitmq-server
