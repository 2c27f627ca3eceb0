#!/usr/bin/env bash
# Make sure the machine services the test suite needs are present. Idempotent; run as root.
# It never stops anything and never starts a Valkey server: the vitest globalSetup spawns
# its own valkey-server (or redis-server) on a spare port and kills it by PID.
set -euo pipefail

APT_ETC=${APT_ETC:-/etc/apt}   # overridable only so the source parsing can be tested on fixtures
BACKPORTS_FILE=$APT_ETC/sources.list.d/mitra-backports.sources

# --- Postgres: start the distro cluster if nothing answers on 127.0.0.1:5432 ---------------
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432; then echo "postgres: already running"; return; fi
  local ver
  # shellcheck disable=SC2012  # (version dirs are plain numbers, so ls is fine)
  ver=$(ls /etc/postgresql | sort -V | tail -n1)   # newest installed major
  # --skip-systemctl-redirect: there is no systemd in containers/CI. A failure here (e.g.
  # "already running" but still starting up) is judged by the readiness loop below instead.
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do
    if pg_isready -q -h 127.0.0.1 -p 5432; then echo "postgres: started cluster $ver/main"; return; fi
    sleep 1
  done
  echo "postgres: ERROR cluster $ver/main not ready after 30s" >&2; return 1
}

# --- Valkey 8 from <codename>-backports (bookworm itself only ships redis 7) ----------------
# shellcheck disable=SC1091
codename() { ( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}" ) || true; }

# Print "URI<TAB>keyring" of the machine's own mirror for the base suite, so that no host
# name is hard-coded here (CI machines use their own mirrors/snapshots).
# deb822 *.sources first, then one-line "deb [opts] URI <suite> main" entries.
base_source() {
  local suite=$1 f
  for f in "$APT_ETC"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function flush() { if (ok && deb && !off && uri != "") { print uri "\t" key; found = 1; exit } ok = deb = off = 0; uri = key = "" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"     { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "enabled:"   { off = (tolower($2) == "no") }
      tolower($1) == "uris:"      { uri = $2 }
      tolower($1) == "signed-by:" { key = ($2 ~ /^\//) ? $2 : "" }   # inline keys are not reused
      tolower($1) == "suites:"    { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END { if (!found) flush() }' "$f" | grep . && return 0
  done
  for f in "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      $1 != "deb" { next }
      { key = ""; i = 2
        if ($2 ~ /^\[/) { for (; i <= NF; i++) { if ($i ~ /^\[?signed-by=/) { key = $i; sub(/^\[?signed-by=/, "", key); sub(/\]$/, "", key) }
                                                 if ($i ~ /\]$/) { i++; break } } }
        if ($(i + 1) == suite) { print $i "\t" key; exit } }' "$f" | grep . && return 0
  done
  return 1
}

install_valkey() {
  local cn src uri key
  cn=$(codename); cn=${cn:-bookworm}
  src=$(base_source "$cn") || { echo "valkey: WARNING no apt source for '$cn' found; tests will use redis-server"; return 0; }
  uri=${src%%$'\t'*}; key=${src#*$'\t'}
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\n' "$uri" "$cn"
    if [ -n "$key" ]; then printf 'Signed-By: %s\n' "$key"; fi
  } > "$BACKPORTS_FILE"
  [ "${SERVICES_DRY_RUN:-}" = 1 ] && { echo "valkey: dry run, wrote $BACKPORTS_FILE:"; cat "$BACKPORTS_FILE"; return 0; }

  # Don't let the package's postinst start a server on the shared port 6379.
  local policy=/usr/sbin/policy-rc.d tmp_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; tmp_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT   # also removed if we are interrupted
  fi
  local apt_update=(apt-get update -qq)
  # Refresh only the backports index (quick, leaves other lists alone) ...
  local ok=0
  if "${apt_update[@]}" -o Dir::Etc::sourcelist="$BACKPORTS_FILE" -o Dir::Etc::sourceparts=- \
       -o APT::Get::List-Cleanup=0 && apt_install_valkey "$cn"; then ok=1
  # ... and fall back to a full update when e.g. the base lists are missing (fresh image).
  elif "${apt_update[@]}" && apt_install_valkey "$cn"; then ok=1; fi
  if [ -n "$tmp_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  if [ "$ok" = 1 ] && command -v valkey-server >/dev/null; then
    echo "valkey: installed $(valkey_version) from $cn-backports ($uri)"
  else
    echo "valkey: WARNING install from $cn-backports failed; tests will fall back to redis-server ($(command -v redis-server || echo 'not found'))"
  fi
}
apt_install_valkey() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t "$1-backports" --no-install-recommends valkey-server
}

valkey_version() { valkey-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'; }

ensure_valkey() {
  if command -v valkey-server >/dev/null; then
    echo "valkey: already present ($(valkey_version)); not started, tests spawn their own"
  else
    install_valkey
  fi
}

# Only act when executed, so the functions above can be sourced and tried on their own.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ensure_postgres
  ensure_valkey
fi
