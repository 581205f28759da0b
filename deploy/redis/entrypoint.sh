#!/bin/sh
# Starts Redis as Errand runs it, as one of two kinds of process:
#   entrypoint.sh [ARG...]           a data node: the one Redis of docker-compose.yml, a
#                                    primary or replica of a Sentinel group, or a node of a
#                                    Redis Cluster;
#   entrypoint.sh sentinel [ARG...]  a sentinel of that group.
# A data node renders users.acl (a template) with the passwords from the environment, and a
# redis.conf of its own that includes the shipped one; a sentinel renders sentinel.conf. ARGs go
# on to redis-server after the file (the tests set --port, --bind and --dir this way, the
# Sentinel compose file --replicaof, a Cluster's nodes --cluster-enabled yes). In the official
# Redis image the image's own entrypoint runs next, so Redis runs as the `redis` user and owns
# /data.
#
# ERRAND_REDIS_REPLICATION=sentinel makes a data node one of a Sentinel group: the `replica` and
# `sentinel` users are rendered and their passwords required, and the node logs in to its
# primary as `replica`. ERRAND_REDIS_REPLICATION=cluster is for a node of a Redis Cluster:
# `replica` and the login as it on every node, since any node may become a replica (a failed
# master comes back as one), but no `sentinel` user, which nothing in a Cluster logs in as.
# Unset (the one Redis), both are left out: a single Redis then asks for no password it would
# not use, and has no user that nothing logs in as.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
conf="${ERRAND_REDIS_CONF:-$here/redis.conf}"
acl="${ERRAND_ACL_FILE:-/run/errand-redis/users.acl}"
prefix="${QUEUE_PREFIX:-errand}"
replication="${ERRAND_REDIS_REPLICATION:-none}"

fail() {
  echo "errand-redis: $1" >&2
  exit 64
}
# Passwords go into an ACL file line and into the apps' REDIS_URL: long, and of characters
# that need no quoting in either (openssl rand -hex 32 makes one).
check_password() {
  eval "value=\${$1-}" # the variable as set: $(...) would drop a trailing newline
  [ -n "$value" ] || fail "$1 is not set (copy .env.example to .env and set it)"
  [ "${#value}" -ge 16 ] || fail "$1 is shorter than 16 characters"
  case "$value" in
    *[!A-Za-z0-9_.-]*) fail "$1 may hold only letters, digits and _ . -" ;;
  esac
}
# Other values that go into a config line: a host name, a number.
check_host() {
  case "$2" in
    '' | *[!A-Za-z0-9.-]*) fail "$1 must be a host name or an IPv4 address, not \"$2\"" ;;
  esac
}
check_number() {
  case "$2" in
    '' | *[!0-9]*) fail "$1 must be a number, not \"$2\"" ;;
  esac
}

# The template with comments and blank lines dropped (Redis reads no comments in an ACL file)
# and every ${NAME} replaced by the variable's value, each checked above to need no escaping
# here. More sed arguments may come after the template's name.
render() {
  template=$1
  shift
  for name in ERRAND_REDIS_PASSWORD ERRAND_REDIS_ADMIN_PASSWORD ERRAND_REDIS_REPLICA_PASSWORD \
    ERRAND_REDIS_SENTINEL_PASSWORD QUEUE_PREFIX ERRAND_SENTINEL_NAME ERRAND_SENTINEL_PRIMARY_HOST \
    ERRAND_SENTINEL_PRIMARY_PORT ERRAND_SENTINEL_ANNOUNCE_HOST ERRAND_SENTINEL_DOWN_AFTER_MS \
    ERRAND_SENTINEL_FAILOVER_TIMEOUT_MS; do
    eval "value=\${$name-}"
    set -- "$@" -e "s|\${$name}|$value|g"
  done
  sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$@" "$template"
}
# A rendered file must hold no ${NAME} left without a value; one that does is removed.
check_rendered() {
  if grep -q '\${' "$1"; then
    rm -f "$1"
    fail "$1 still held a \${...} placeholder"
  fi
}

# The official image's entrypoint drops to the `redis` user; elsewhere redis-server as it is.
start_redis() {
  if command -v docker-entrypoint.sh >/dev/null 2>&1; then
    exec docker-entrypoint.sh redis-server "$@"
  fi
  exec redis-server "$@"
}

case "$replication" in
  none | sentinel | cluster) ;;
  *) fail "ERRAND_REDIS_REPLICATION may be sentinel, cluster or unset, not \"$replication\"" ;;
esac
umask 077

if [ "${1-}" = sentinel ]; then
  shift
  check_password ERRAND_REDIS_SENTINEL_PASSWORD
  : "${ERRAND_SENTINEL_NAME:=errand}" "${ERRAND_SENTINEL_PRIMARY_PORT:=6379}"
  : "${ERRAND_SENTINEL_DOWN_AFTER_MS:=5000}" "${ERRAND_SENTINEL_FAILOVER_TIMEOUT_MS:=60000}"
  case "$ERRAND_SENTINEL_NAME" in
    '' | *[!A-Za-z0-9_.-]*) fail "ERRAND_SENTINEL_NAME may hold only letters, digits and _ . -" ;;
  esac
  check_host ERRAND_SENTINEL_PRIMARY_HOST "${ERRAND_SENTINEL_PRIMARY_HOST-}"
  check_host ERRAND_SENTINEL_ANNOUNCE_HOST "${ERRAND_SENTINEL_ANNOUNCE_HOST-}"
  check_number ERRAND_SENTINEL_PRIMARY_PORT "$ERRAND_SENTINEL_PRIMARY_PORT"
  check_number ERRAND_SENTINEL_DOWN_AFTER_MS "$ERRAND_SENTINEL_DOWN_AFTER_MS"
  check_number ERRAND_SENTINEL_FAILOVER_TIMEOUT_MS "$ERRAND_SENTINEL_FAILOVER_TIMEOUT_MS"
  sentinel_conf="${ERRAND_SENTINEL_CONF:-/data/sentinel.conf}"
  mkdir -p "$(dirname "$sentinel_conf")"
  # Sentinel writes what it learns into its file (the current primary, the replicas, the
  # other sentinels, its id and epochs) and must find it again after a restart: an existing
  # file is kept, and only the group's settings below `sentinel monitor` are taken from the
  # template again, so a changed password or timing applies.
  settings='^sentinel (down-after-milliseconds|failover-timeout|parallel-syncs|auth-user|auth-pass) '
  if [ -s "$sentinel_conf" ]; then
    {
      grep -Ev "$settings" "$sentinel_conf" || true
      render "$here/sentinel.conf" | grep -E "$settings"
    } >"$sentinel_conf.new"
  else
    render "$here/sentinel.conf" >"$sentinel_conf.new"
  fi
  check_rendered "$sentinel_conf.new"
  mv "$sentinel_conf.new" "$sentinel_conf"
  start_redis "$sentinel_conf" --sentinel "$@"
fi

check_password ERRAND_REDIS_PASSWORD
check_password ERRAND_REDIS_ADMIN_PASSWORD
if [ "$replication" != none ]; then
  check_password ERRAND_REDIS_REPLICA_PASSWORD
fi
if [ "$replication" = sentinel ]; then
  check_password ERRAND_REDIS_SENTINEL_PASSWORD
fi
# The apps' own rule for QUEUE_PREFIX: no glob characters that would widen `~<prefix>:*`, and
# no braces, since the apps put each queue in a hash tag of its own (`<prefix>:{email}`).
case "$prefix" in
  '' | *[!A-Za-z0-9:_-]*) fail "QUEUE_PREFIX may hold only letters, digits and : _ -" ;;
esac
QUEUE_PREFIX=$prefix # what render() puts into the template

run=$(dirname "$acl")
mkdir -p "$run"
case "$replication" in
  sentinel) render "$here/users.acl" >"$acl" ;;
  cluster) render "$here/users.acl" -e '/^user sentinel /d' >"$acl" ;;
  none) render "$here/users.acl" -e '/^user replica /d' -e '/^user sentinel /d' >"$acl" ;;
esac
check_rendered "$acl"
# This node's own configuration: the shipped one, then what is the node's. CONFIG REWRITE
# (Sentinel sends it on failover) writes here, never into the shipped file. The image's
# entrypoint turns protected mode off unless the file it is given sets it: the shipped
# setting is repeated here so that it stays.
{
  echo "include \"$conf\""
  grep '^protected-mode ' "$conf" || true
  echo "aclfile \"$acl\""
  if [ "$replication" != none ]; then
    echo "masteruser replica"
    echo "masterauth $ERRAND_REDIS_REPLICA_PASSWORD"
  fi
} >"$run/redis.conf"

# The image's entrypoint drops to the `redis` user, which must read both files and may rewrite
# the configuration.
if command -v docker-entrypoint.sh >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  chown redis "$run" "$acl" "$run/redis.conf"
fi
start_redis "$run/redis.conf" "$@"
