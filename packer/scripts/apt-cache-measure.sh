#!/usr/bin/env bash
# Measures what an apt cache saves a build, in the built guest itself and side by side: boots IMAGE
# on a throw-away overlay, finds the packages the build installed or upgraded (dpkg's file lists
# written after the base disk was made - BASE_JSON, default the cached Debian 12 base's record; the
# sealed image keeps no apt logs), and downloads that set three times with
# apt-download.sh - straight from the archive, through the cache on this host, through it again.
#   packer/scripts/apt-cache-measure.sh IMAGE ADMIN_PRIVATE_KEY ADMIN_USER [PORT]
# The cache is an apt-cacher-ng on this host (make apt-cache), reached from the guest at
# 10.0.2.2:PORT (3142). Nothing is installed in the guest. The passes and what each line says:
# apt-cache-passes.sh.
set -uo pipefail
# shellcheck source=packer/scripts/boot-overlay.sh
. "$(dirname "$0")/boot-overlay.sh"
image=${1:?usage: $0 IMAGE ADMIN_PRIVATE_KEY ADMIN_USER [PORT]}
key=${2:?}; admin=${3:?}; cport=${4:-3142}
base_json=${BASE_JSON:-$HOME/.cache/vaultcube/debian-base/debian-12-base.json}
made=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["made"])' "$base_json") \
  || { echo "apt-cache-measure: cannot read when the base disk was made from $base_json" >&2; exit 1; }
[ -d /var/log/apt-cacher-ng ] || { echo "apt-cache-measure: no apt-cacher-ng on this host (make apt-cache)" >&2; exit 1; }

boot_overlay "$image" "${SECOND_BOOT_ACCEL:-tcg}" || exit 1
wait_for_login "$key" "$admin" 900 || { echo "apt-cache-measure: no SSH login as $admin within 900 s" >&2; exit 1; }
echo "apt-cache-measure: SSH after ${boot_s} s"
as_admin() { ssh "${ssh_opts[@]}" -i "$key" "$admin@127.0.0.1" "$@"; }
as_admin 'cat > /tmp/apt-download.sh' < "$(dirname "$0")/apt-download.sh"
pkgs=$(as_admin "find /var/lib/dpkg/info -name '*.list' -newermt '$made' -printf '%f\n' | sed 's/\.list\$//; s/:.*//' | sort -u | tr '\n' ' '")
[ -n "$pkgs" ] || { echo "apt-cache-measure: the guest has no package installed after the base disk was made ($made)" >&2; exit 1; }
echo "apt-cache-measure: $(echo "$pkgs" | wc -w) packages installed or upgraded by the build (after the base disk, $made)"
"$(dirname "$0")/apt-cache-passes.sh" "http://10.0.2.2:$cport" "--reinstall $pkgs" \
  ssh "${ssh_opts[@]}" -i "$key" "$admin@127.0.0.1" sudo sh /tmp/apt-download.sh || exit 1
power_off "$key" "$admin"
