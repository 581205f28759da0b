#!/bin/sh
# Starts Redis as Errand runs it: renders users.acl (a template) with the passwords from the
# environment, then runs redis-server with redis.conf. Arguments go on to redis-server after
# the file (the tests set --port, --bind and --dir this way). In the official Redis image the
# image's own entrypoint runs next, so Redis runs as the `redis` user and owns /data.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
conf="${ERRAND_REDIS_CONF:-$here/redis.conf}"
acl="${ERRAND_ACL_FILE:-/run/errand-redis/users.acl}"
prefix="${QUEUE_PREFIX:-errand}"

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
check_password ERRAND_REDIS_PASSWORD
check_password ERRAND_REDIS_ADMIN_PASSWORD
# The apps' own rule for QUEUE_PREFIX: no glob characters that would widen `~<prefix>:*`.
case "$prefix" in
  '' | *[!A-Za-z0-9:{}_-]*) fail "QUEUE_PREFIX may hold only letters, digits and : { } _ -" ;;
esac

mkdir -p "$(dirname "$acl")"
umask 077
# Redis reads no comments in an ACL file: they stay in the template.
sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' \
  -e "s|\${ERRAND_REDIS_PASSWORD}|$ERRAND_REDIS_PASSWORD|g" \
  -e "s|\${ERRAND_REDIS_ADMIN_PASSWORD}|$ERRAND_REDIS_ADMIN_PASSWORD|g" \
  -e "s|\${QUEUE_PREFIX}|$prefix|g" \
  "$here/users.acl" >"$acl"

if command -v docker-entrypoint.sh >/dev/null 2>&1; then
  # The image's entrypoint drops to the `redis` user, which must read the rendered file.
  [ "$(id -u)" = 0 ] && chown redis "$(dirname "$acl")" "$acl"
  exec docker-entrypoint.sh redis-server "$conf" --aclfile "$acl" "$@"
fi
exec redis-server "$conf" --aclfile "$acl" "$@"
