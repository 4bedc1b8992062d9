#!/usr/bin/env bash
# Downloads a package set three times side by side and prints one line per pass: straight from the
# archive ("direct"), through the apt cache ("cold": empty only if it did not hold these packages
# yet) and through it again ("warm"). Runs on the host of the apt cache (it reads apt-cacher-ng's
# log) and runs apt-download.sh on the client through CLIENT (a command prefix: the same host, or
# ssh into a guest). Each line is apt-download.sh's plus upstream_debs / upstream_other: the
# packages and the other files (index files) the cache fetched from the archive during that pass.
#   apt-cache-passes.sh PROXY_URL "PACKAGE..." CLIENT...
# Used by packer/scripts/apt-cache-measure.sh (in a built guest) and molecule/apt_cache (in a
# container).
set -euo pipefail
proxy=${1:?usage: $0 PROXY_URL "PACKAGE..." CLIENT...}
pkgs=${2:?}
shift 2
[ $# -gt 0 ] || { echo "apt-cache-passes: no CLIENT command given" >&2; exit 2; }
log=${ACNG_LOG:-/var/log/apt-cacher-ng/apt-cacher.log}
[ -d "$(dirname "$log")" ] || { echo "apt-cache-passes: no apt-cacher-ng on this host (no $(dirname "$log"))" >&2; exit 1; }
fetched() { local n; n=$(grep -c "|I|.*$1" "$log" 2>/dev/null); echo "${n:-0}"; }
for pass in direct cold warm; do
  via=$proxy; [ "$pass" = direct ] && via=DIRECT
  debs=$(fetched '\.deb$') all=$(fetched '')
  # shellcheck disable=SC2086  # the package names are words
  line=$("$@" "$pass" "$via" $pkgs 2>&1) \
    || { echo "apt-cache-passes: the $pass download failed: $(echo "$line" | grep -m3 -E '^(E|W):')" >&2; exit 1; }
  sleep 1  # apt-cacher-ng writes its log line after the transfer
  debs=$(( $(fetched '\.deb$') - debs )) all=$(( $(fetched '') - all ))
  echo "$line upstream_debs=$debs upstream_other=$(( all - debs ))"
done
