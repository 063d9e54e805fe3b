#!/bin/sh
# MariaDB image init step (mounted into /docker-entrypoint-initdb.d by docker-compose.yml):
# grants the CDC privileges to $MARIADB_USER and loads the PrestaShop fixtures into
# $MARIADB_DATABASE with the PREFIX_ placeholder replaced by $PSSYNC_TABLE_PREFIX.
# Same grants and fixtures as the Docker-less stack (deploy/devstack/mariadb.py).
# The entrypoint sources non-executable *.sh files: the body runs in a subshell so its
# shell options do not leak into the entrypoint.

pssync_initdb() (
    set -eu
    prefix="${PSSYNC_TABLE_PREFIX:-ps_}"
    fixtures="${PSSYNC_FIXTURES_DIR:-/opt/pssync/prestashop}"
    user="${MARIADB_USER:?MARIADB_USER must be set}"
    database="${MARIADB_DATABASE:?MARIADB_DATABASE must be set}"

    as_root() {
        MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-}" mariadb --protocol=socket -uroot "$@"
    }

    as_root <<SQL
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, CREATE TEMPORARY TABLES, LOCK TABLES
    ON \`pssync\\_%\`.* TO '${user}'@'%';
GRANT RELOAD, REPLICATION SLAVE, BINLOG MONITOR, REPLICATION SLAVE ADMIN, REPLICATION MASTER ADMIN, PROCESS ON *.* TO '${user}'@'%';
FLUSH PRIVILEGES;
SQL

    for name in schema.sql demo_data.sql; do
        if [ -f "$fixtures/$name" ]; then
            echo "pssync: loading $name into $database (prefix $prefix)"
            sed "s/PREFIX_/${prefix}/g" "$fixtures/$name" | as_root --database="$database"
        else
            echo "pssync: $fixtures/$name not found, skipped"
        fi
    done
)

pssync_initdb
