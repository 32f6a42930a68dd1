#!/usr/bin/env bash
# The servers the test suite starts on loopback, checked before pytest (`make test`, `.ci/run`).
# Today one is outside Python: Dovecot (IMAP), for the email channel's integration tests (SMTP is aiosmtpd,
# from the dev extras; Odoo is the embedded sandbox; Chroma is embedded).
#
#   scripts/test-services.sh install   installs dovecot-imapd when it is missing and that is possible without
#                                      a prompt (root, or passwordless sudo, and apt-get); else prints the hint
#   scripts/test-services.sh check     only prints a one-line hint when it is missing
#
# With COPILOT_REQUIRE_SERVICES=1 (CI) a missing Dovecot is an error (exit 1) here and in the tests;
# otherwise the tests that need it are skipped and pytest's summary counts them.
set -uo pipefail

mode="${1:-check}"
hint="Dovecot not found: the email channel's IMAP tests will be skipped; install with: sudo apt-get install dovecot-imapd"

# Where dovecot is looked for (Debian puts it in /usr/sbin, often not on a user's PATH).
search_path="${DOVECOT_SEARCH_PATH:-$PATH:/usr/sbin:/usr/local/sbin}"

have_dovecot() {
  PATH="$search_path" command -v dovecot >/dev/null 2>&1
}

missing() {
  if [ "${COPILOT_REQUIRE_SERVICES:-}" = "1" ]; then
    echo "Dovecot not found and COPILOT_REQUIRE_SERVICES=1; install with: sudo apt-get install dovecot-imapd" >&2
    exit 1
  fi
  echo "$hint" >&2
  exit 0
}

if have_dovecot; then
  echo "test servers: dovecot found"
  exit 0
fi
case "$mode" in
  check) missing ;;
  install) ;;
  *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  missing
fi
command -v apt-get >/dev/null 2>&1 || missing

echo "test servers: installing dovecot-imapd (apt-get)"
if "${sudo[@]}" apt-get update -qq >/dev/null \
  && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq dovecot-imapd >/dev/null \
  && have_dovecot; then
  echo "test servers: dovecot installed"
  exit 0
fi
echo "test servers: apt-get could not install dovecot-imapd" >&2
missing
