#!/bin/sh
# Times one download of a package set (apt-get install --download-only: nothing is installed or
# changed) and prints one line: LABEL packages=N bytes=B seconds=S sha256=<first 16 of the .debs'>.
#   apt-download.sh LABEL DIRECT|PROXY_URL [apt-get options] PACKAGE...
# Run as root. The apt cache of .deb files is emptied before and after, so each run downloads
# everything. apt-cache-passes.sh runs it side by side: straight, through an empty apt cache,
# through the filled cache.
set -eu
label=${1:?usage: $0 LABEL DIRECT|PROXY_URL PACKAGE...}
via=${2:?}
shift 2
archives=/var/cache/apt/archives
rm -f "$archives"/*.deb
apt-get -o "Acquire::http::Proxy=$via" -qq update
t0=$(date +%s.%N)
apt-get -o "Acquire::http::Proxy=$via" -qq -y --download-only install "$@" > /dev/null
t1=$(date +%s.%N)
n=$(find "$archives" -maxdepth 1 -name '*.deb' | wc -l)
bytes=$(find "$archives" -maxdepth 1 -name '*.deb' -exec cat {} + | wc -c)
sum=$(find "$archives" -maxdepth 1 -name '*.deb' | sort | xargs cat | sha256sum | cut -c1-16)
rm -f "$archives"/*.deb
echo "$label packages=$n bytes=$bytes seconds=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") sha256=$sum"
