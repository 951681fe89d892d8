#!/bin/sh
# Deploys the demo service (FAKE credentials for scanner tests).
set -eu

export SLACK_BOT_TOKEN=xoxb-000000000000-0000000000000-FAKEfakeFAKEfakeFAKEfake
export DEPLOY_PASSWORD="${DEPLOY_PASSWORD:-}"

mkdir -p "$HOME/.ssh"
cat >"$HOME/.ssh/deploy_key" <<'KEY'
-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAK
EKEYfakekeyfakekeyfakekeyfakekeyfakekeyfakekeyfakekeyfakekeyfakekey0
123456789FAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEYFAKEKEY==
-----END RSA PRIVATE KEY-----
KEY
chmod 600 "$HOME/.ssh/deploy_key"
