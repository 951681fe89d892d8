#!/bin/sh
# Nightly backup (planted test credentials, never valid).
set -eu
export PGPASSWORD="Bk7!qZ2xLv9m"
export BACKUP_TOKEN=glpat-FDEEtfjgVvVqE1SkHbn8
pg_dump -h db.internal -U backup orders >"/backup/orders-$(date +%F).sql"
echo "password: ${PGPASSWORD:+set}"
