#!/usr/bin/env bash
# The servers the test suite starts on loopback, checked before pytest (`make test`, `.ci/run`).
# Three are outside Python, all from Debian's packages:
#   Dovecot (IMAP), for the email channel's integration tests;
#   PostgreSQL (initdb/pg_ctl: each test session starts a throwaway cluster), for the stores on PostgreSQL;
#   Redis (redis-server: each test session starts a throwaway server, no persistence), for the Celery
#   workers' broker and the shared rate limits.
# On request only (.ci/run asks for them):
#   Chromium, which Playwright drives in the headless-browser tests (`make browser-test`; asked for when the
#   machine has an Odoo to test against);
# SMTP is aiosmtpd, from the dev extras; Odoo is the embedded sandbox; Chroma is embedded.
#   n8n, from the npm registry, for the n8n workflows' test (tests/integration/test_n8n.py), at the
# version pinned in integrations/n8n/runtime/package.json, into ~/.cache/copilot-test-services/n8n-<version>
# (COPILOT_TEST_SERVICES_DIR moves the cache). It needs Node.js (>= 20.19) and npm; the first install
# downloads about 1 GB and takes minutes.
#
#   scripts/test-services.sh install [NAME...]   installs what is missing when that is possible without a prompt
#                                                (root, or passwordless sudo, and apt-get); else prints a one-line hint
#   scripts/test-services.sh check [NAME...]     only prints a one-line hint per missing server
# NAME: dovecot, postgresql, redis (the default: all three), chromium, n8n.
#
# With COPILOT_REQUIRE_SERVICES=1 (CI) a missing server is an error (exit 1) here and in the tests;
# otherwise the tests that need it are skipped and pytest's summary counts them.
set -uo pipefail

usage() { echo "usage: $0 install|check [dovecot|postgresql|redis|chromium|n8n...]" >&2; exit 2; }

mode="${1:-check}"
case "$mode" in
  check | install) ;;
  *) usage ;;
esac
shift $(($# > 0 ? 1 : 0))
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=(dovecot postgresql redis)
for name in "${names[@]}"; do
  case "$name" in
    dovecot | postgresql | redis | chromium | n8n) ;;
    *) usage ;;
  esac
done

# Where the servers are looked for (Debian puts dovecot in /usr/sbin, often not on a user's PATH, and
# PostgreSQL's initdb in /usr/lib/postgresql/<version>/bin; redis-server is in /usr/bin).
dovecot_path="${DOVECOT_SEARCH_PATH:-$PATH:/usr/sbin:/usr/local/sbin}"
postgres_glob="${POSTGRES_SEARCH_GLOB:-/usr/lib/postgresql/*/bin}"
# Debian's chromium: /usr/bin/chromium (a wrapper) and /usr/lib/chromium/chromium (tests/servers/chromium.py).
chromium_path="${CHROMIUM_SEARCH_PATH:-$PATH:/usr/lib/chromium}"

have() {  # have NAME: is the server's program there?
  case "$1" in
    dovecot) PATH="$dovecot_path" command -v dovecot >/dev/null 2>&1 ;;
    postgresql)
      for folder in $postgres_glob; do [ -x "$folder/initdb" ] && return 0; done
      command -v initdb >/dev/null 2>&1
      ;;
    redis) PATH="$dovecot_path" command -v redis-server >/dev/null 2>&1 ;;
    chromium) PATH="$chromium_path" command -v chromium >/dev/null 2>&1 ;;
  esac
}

package() {  # package NAME: its Debian package
  case "$1" in
    dovecot) echo dovecot-imapd ;;
    postgresql) echo postgresql ;;
    redis) echo redis-server ;;
    chromium) echo chromium ;;
  esac
}

what() {  # what NAME: the tests that need it
  case "$1" in
    dovecot) echo "Dovecot not found: the email channel's IMAP tests" ;;
    postgresql) echo "PostgreSQL not found: the stores' PostgreSQL tests" ;;
    redis) echo "redis-server not found: the Celery workers' and shared rate limits' tests" ;;
    chromium) echo "Chromium not found: the headless-browser tests on a real Odoo" ;;
  esac
}

failed=0
missing() {  # missing NAME: the hint, or an error under COPILOT_REQUIRE_SERVICES=1
  if [ "${COPILOT_REQUIRE_SERVICES:-}" = "1" ]; then
    echo "$(what "$1") cannot run and COPILOT_REQUIRE_SERVICES=1; install with: sudo apt-get install $(package "$1")" >&2
    failed=1
  else
    echo "$(what "$1") will be skipped; install with: sudo apt-get install $(package "$1")" >&2
  fi
}

can_install() {
  [ "$mode" = install ] || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    return 1
  fi
}

updated=0
want_n8n=0
for name in "${names[@]}"; do
  if [ "$name" = n8n ]; then  # from npm, below
    want_n8n=1
    continue
  fi
  if have "$name"; then
    echo "test servers: $name found"
    continue
  fi
  if ! can_install; then
    missing "$name"
    continue
  fi
  echo "test servers: installing $(package "$name") (apt-get)"
  if [ "$updated" = 0 ]; then
    "${sudo[@]}" apt-get update -qq >/dev/null
    updated=1
  fi
  if DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$(package "$name")" >/dev/null \
    && have "$name"; then
    echo "test servers: $name installed"
  else
    echo "test servers: apt-get could not install $(package "$name")" >&2
    missing "$name"
  fi
done

# n8n, from the npm registry: installed into a fresh folder, which is renamed into place only when the
# install succeeded (a half-finished install is never taken for an installed n8n).
[ "$want_n8n" = 1 ] || exit "$failed"
n8n_spec="${0%/*}/../integrations/n8n/runtime/package.json"
n8n_version=""
while IFS= read -r line; do  # the pinned version, e.g. "n8n": "2.8.4"
  if [[ $line =~ \"n8n\":\ *\"([0-9.]+)\" ]]; then n8n_version="${BASH_REMATCH[1]}"; fi
done <"$n8n_spec"
n8n_home="${COPILOT_TEST_SERVICES_DIR:-${HOME:-/tmp}/.cache/copilot-test-services}/n8n-$n8n_version"
n8n_missing() {  # n8n_missing WHY
  if [ "${COPILOT_REQUIRE_SERVICES:-}" = "1" ]; then
    echo "n8n $n8n_version $1: the n8n workflows' test cannot run and COPILOT_REQUIRE_SERVICES=1" >&2
    failed=1
  else
    echo "n8n $n8n_version $1: the n8n workflows' test will be skipped; install with: $0 install n8n" >&2
  fi
}
if [ -x "$n8n_home/node_modules/.bin/n8n" ]; then
  echo "test servers: n8n $n8n_version found"
elif [ "$mode" != install ]; then
  n8n_missing "not found in $n8n_home"
elif ! command -v npm >/dev/null 2>&1 || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  n8n_missing "needs Node.js >= 20.19 and npm (sudo apt-get install nodejs npm)"
else
  echo "test servers: installing n8n $n8n_version (npm; the first time takes minutes)"
  started=$(date +%s)
  staging="$n8n_home.partial-$$"
  rm -rf "$staging" && mkdir -p "$staging" && cp "$n8n_spec" "$staging/package.json"
  if (cd "$staging" && npm install --no-audit --no-fund --omit=dev --loglevel=error >"$staging.log" 2>&1) \
    && [ -x "$staging/node_modules/.bin/n8n" ] && rm -rf "$n8n_home" && mv "$staging" "$n8n_home"; then
    echo "test servers: n8n $n8n_version installed in $(($(date +%s) - started)) s"
    rm -f "$staging.log"
  else
    tail -n 5 "$staging.log" >&2
    rm -rf "$staging"
    n8n_missing "could not be installed (npm failed; log: $staging.log)"
  fi
fi
exit "$failed"
