#!/bin/sh
# pgAdmin connects to the warehouse with a pgpass file. It is written here, at every start, from
# the postgres_password Docker secret, so the password lives only in ./secrets and on pgAdmin's
# own volume. In server mode pgAdmin resolves servers.json's "PassFile": "/.pgpass" inside the
# login's storage folder (the email with @ replaced by _), which is where the image's own
# PGPASS_FILE support puts it too. pgpass needs ':' and '\' escaped.
set -eu
storage=/var/lib/pgadmin/storage/$(printf '%s' "$PGADMIN_DEFAULT_EMAIL" | sed 's/@/_/g')
umask 077
mkdir -p "$storage"
password=$(sed -e 's/[\\:]/\\&/g' /run/secrets/postgres_password | tr -d '\r\n')
printf 'warehouse:5432:*:warehouse:%s\n' "$password" > "$storage/.pgpass"
exec /entrypoint.sh "$@"
