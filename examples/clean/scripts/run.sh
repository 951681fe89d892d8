#!/bin/sh
# Starts the demo service with credentials from the environment.
set -eu

: "${DB_PASSWORD:?DB_PASSWORD must be set}"
export API_TOKEN="${API_TOKEN:-}"
password_file=/run/secrets/db_password
if [ -r "$password_file" ]; then
	DB_PASSWORD=$(cat "$password_file")
fi
exec python3 -m demo --token-file "$HOME/.config/demo/token"
