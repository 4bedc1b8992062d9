#!/usr/bin/env bash
# Build a systemd-capable Debian base image for molecule, locally, from Debian's archive
# (no image registry is reachable from this project's build machines).
#   molecule/shared/build-image.sh bookworm|trixie   -> local/debian12-systemd, local/debian13-systemd
# Cached: the image is rebuilt only when this script (its recipe) changes. The rootfs tarball is
# also kept in $VAULTCUBE_CACHE (default ~/.cache/vaultcube) so a fresh dockerd re-imports it in
# seconds instead of running debootstrap again (~45 s).
set -euo pipefail
suite=${1:?usage: $0 bookworm|trixie}
case "$suite" in
  bookworm) tag=local/debian12-systemd:latest ;;
  trixie) tag=local/debian13-systemd:latest ;;
  *) echo "unknown suite '$suite': use bookworm or trixie" >&2; exit 2 ;;
esac
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${VAULTCUBE_CACHE:-$HOME/.cache/vaultcube}
recipe=$(sha256sum "$0" | cut -c1-16)
label="vaultcube.recipe=$recipe"

if [ "$(docker image inspect -f '{{ index .Config.Labels "vaultcube.recipe" }}' "$tag" 2>/dev/null)" = "$recipe" ]; then
  echo "build-image: $tag is current ($recipe)"; exit 0
fi

mkdir -p "$cache"
tarball="$cache/$suite-$recipe.tar"
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "build-image: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  echo "build-image: debootstrap $suite from $mirror"
  start=$(date +%s)
  # python3 + python3-apt: Ansible's apt module; systemd/dbus: services; sudo, iproute2,
  # ca-certificates, gnupg: what the roles expect of any real Debian/Ubuntu host.
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,ca-certificates,gnupg,procps \
    "$suite" "$root" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 \
    || { tail -20 "$cache/debootstrap-$suite.log"; exit 1; }
  components="main"
  [ "$suite" = trixie ] && components="main contrib non-free non-free-firmware"
  [ "$suite" = bookworm ] && components="main contrib non-free non-free-firmware"
  cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror $suite $components
deb $mirror $suite-updates $components
deb http://security.debian.org/debian-security $suite-security $components
SRC
  # A container has no console to wait for, and these units only slow boot down or fail there.
  for unit in getty.target systemd-remount-fs.service systemd-firstboot.service \
              systemd-udevd.service systemd-modules-load.service sys-kernel-config.mount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  echo "container" > "$root/etc/hostname"
  # As Docker's official Debian images do: dpkg without fsync (a test container's filesystem is
  # thrown away) and no man-db index rebuild after every install. Both only make apt faster;
  # what gets installed is the same.
  echo "force-unsafe-io" > "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  echo "man-db man-db/auto-update boolean false" | chroot "$root" debconf-set-selections
  # A freshly installed box has its package lists; so does the image (check mode relies on it).
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  chroot "$root" apt-get update -qq >>"$cache/debootstrap-$suite.log" 2>&1
  : > "$root/etc/resolv.conf"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
  tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  echo "build-image: rootfs $suite took $(( $(date +%s) - start ))s"
fi
docker import -c "LABEL $label" -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
  "$tarball" "$tag" >/dev/null
echo "build-image: imported $tag ($recipe)"
