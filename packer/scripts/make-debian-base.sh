#!/usr/bin/env bash
# Makes the Debian 12 base disk image that stands in for an Ubuntu 24.04 autoinstall where
# Ubuntu's ISO and archive cannot be reached (this project's build machines): the same result as
# packer/http/user-data (an admin user with a build key, passwordless sudo, openssh-server,
# python3, one ext4 root partition, GRUB on a BIOS disk, DHCP through systemd-networkd), made
# from Debian's archive with debootstrap, a loop device and chroot - no VM, no KVM.
#
#   packer/scripts/make-debian-base.sh OUT_DIR
#     OUT_DIR/debian-12-base.qcow2    the disk (virtual size $BASE_DISK_SIZE)
#     OUT_DIR/debian-12-base.json     what it is: suite, kernel, sha256, recipe, seconds taken
#     OUT_DIR/build_ed25519[.pub]     the build key its admin user accepts (made if missing)
#
# Cached: nothing is done when OUT_DIR already holds an image made by this recipe (this script,
# suite, mirror, size, admin user and build key). debootstrap's .deb downloads are kept in
# $VAULTCUBE_CACHE/debootstrap-debs (default ~/.cache/vaultcube) for the next rebuild.
# Needs root, debootstrap, fdisk (sfdisk), qemu-utils, e2fsprogs, and free loop devices.
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
suite=${BASE_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
size=${BASE_DISK_SIZE:-8G}
admin=${ADMIN_USER:-vaultadmin}
cache=${VAULTCUBE_CACHE:-$HOME/.cache/vaultcube}
log() { echo "make-debian-base: $*"; }
die() { echo "make-debian-base: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, losetup, mount, chroot)."
for tool in debootstrap sfdisk losetup partx mkfs.ext4 qemu-img ssh-keygen; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install debootstrap fdisk qemu-utils e2fsprogs openssh-client)."
done
mkdir -p "$out" "$cache/debootstrap-debs"
out=$(cd "$out" && pwd)
key="$out/build_ed25519"
[ -s "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "vaultcube-build-key" -f "$key"
image="$out/debian-12-base.qcow2"
meta="$out/debian-12-base.json"
recipe=$( { cat "$0"; echo "$suite $mirror $security_mirror $size $admin"; cat "$key.pub"; } | sha256sum | cut -c1-16)
if [ -s "$image" ] && [ -s "$meta" ] && grep -q "\"recipe\": \"$recipe\"" "$meta"; then
  log "$image is current (recipe $recipe); nothing to do."
  exit 0
fi

start=$(date +%s)
work=$(mktemp -d "$out/.work.XXXXXX")
raw="$work/disk.raw"
root="$work/root"
loop=""
cleanup() {
  set +e
  for m in dev/pts dev proc sys run; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
  mountpoint -q "$root" && umount "$root"
  [ -n "$loop" ] && { partx -d "$loop" 2>/dev/null; losetup -d "$loop"; }
  rm -rf "$work"
}
trap cleanup EXIT

log "disk: $size raw, one bootable ext4 partition (MBR, BIOS boot)"
truncate -s "$size" "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
loop=$(losetup -f --show -P "$raw")
partx -u "$loop" 2>/dev/null || partx -a "$loop"
for _ in 1 2 3 4 5; do [ -b "${loop}p1" ] && break; sleep 1; done
[ -b "${loop}p1" ] || die "the partition of $loop did not appear (partx)."
mkfs.ext4 -q -L vaultcube-root "${loop}p1"
uuid=$(blkid -s UUID -o value "${loop}p1" 2>/dev/null || tune2fs -l "${loop}p1" | sed -n 's/^Filesystem UUID: *//p')
mkdir -p "$root"
mount "${loop}p1" "$root"

t=$(date +%s)
log "debootstrap $suite from $mirror (log: $out/debootstrap.log)"
debootstrap --variant=minbase --cache-dir="$cache/debootstrap-debs" \
  --include=systemd,systemd-sysv,systemd-resolved,dbus,udev,kmod,iproute2,openssh-server,sudo,python3,python3-apt,ca-certificates,procps,zstd \
  "$suite" "$root" "$mirror" >"$out/debootstrap.log" 2>&1 || { tail -20 "$out/debootstrap.log"; die "debootstrap failed."; }
debootstrap_s=$(( $(date +%s) - t ))

cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror $suite main contrib non-free non-free-firmware
deb $mirror $suite-updates main contrib non-free non-free-firmware
deb $security_mirror $suite-security main contrib non-free non-free-firmware
SRC
echo "vaultcube-demo-box" > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vaultcube-demo-box\n::1 localhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" > "$root/etc/fstab"
# Network: DHCP on every wired interface through systemd-networkd + resolved (as Ubuntu's netplan does).
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n' > "$root/etc/systemd/network/20-wired.network"

for m in dev dev/pts proc sys run; do mkdir -p "$root/$m"; done
mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
mount -t proc proc "$root/proc"; mount -t sysfs sysfs "$root/sys"; mount -t tmpfs tmpfs "$root/run"
mkdir -p "$root/run/systemd/resolve"
cp /etc/resolv.conf "$root/run/systemd/resolve/stub-resolv.conf"
cp /etc/resolv.conf "$root/run/systemd/resolve/resolv.conf"
in_root() { DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 chroot "$root" "$@"; }

t=$(date +%s)
log "kernel and GRUB (log: $out/chroot.log)"
{
  in_root apt-get update -q
  # The build must not start services in the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  echo "grub-pc grub-pc/install_devices_empty boolean true" | in_root debconf-set-selections
  in_root apt-get install -y -q --no-install-recommends linux-image-amd64 grub-pc initramfs-tools
  sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
         -e 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="console=tty0 console=ttyS0,115200n8"/' \
         "$root/etc/default/grub"
  printf 'GRUB_TERMINAL="console serial"\nGRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\n' >> "$root/etc/default/grub"
  in_root grub-install --target=i386-pc --modules="part_msdos ext2" "$loop"
  in_root update-grub
} >"$out/chroot.log" 2>&1 || { tail -30 "$out/chroot.log"; die "installing the kernel or GRUB failed."; }
# Without udev here there is no /dev/disk/by-uuid, so grub-mkconfig wrote the loop device; inside
# the VM (udev) later update-grub runs write root=UUID= themselves.
sed -i "s|root=${loop}p1|root=UUID=$uuid|g" "$root/boot/grub/grub.cfg"
grep -q "root=UUID=$uuid" "$root/boot/grub/grub.cfg" || die "grub.cfg does not boot root=UUID=$uuid (see $out/chroot.log)."
kernel_s=$(( $(date +%s) - t ))

log "admin user $admin with the build key, passwordless sudo, networkd/resolved/ssh enabled"
{
  in_root useradd --create-home --shell /bin/bash --groups sudo "$admin"
  in_root passwd --lock "$admin"
  in_root passwd --lock root
  install -d -m 700 -o 1000 -g 1000 "$root/home/$admin/.ssh"
  install -m 600 -o 1000 -g 1000 "$key.pub" "$root/home/$admin/.ssh/authorized_keys"
  echo "$admin ALL=(ALL) NOPASSWD:ALL" > "$root/etc/sudoers.d/90-$admin"
  chmod 440 "$root/etc/sudoers.d/90-$admin"
  in_root systemctl enable systemd-networkd systemd-resolved ssh serial-getty@ttyS0
  ln -sf /run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
  rm -f "$root/usr/sbin/policy-rc.d"
  in_root apt-get clean
} >>"$out/chroot.log" 2>&1 || { tail -30 "$out/chroot.log"; die "configuring the admin user failed."; }
[ "$(stat -c %u "$root/home/$admin")" = 1000 ] || die "$admin did not get uid 1000; the key was installed for uid 1000."
kernel=$(basename "$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)" | sed 's/^vmlinuz-//')

for m in dev/pts dev proc sys run; do umount -l "$root/$m"; done
umount "$root"
partx -d "$loop" 2>/dev/null || true
losetup -d "$loop"; loop=""

t=$(date +%s)
log "qcow2"
qemu-img convert -O qcow2 "$raw" "$image.tmp"
mv "$image.tmp" "$image"
convert_s=$(( $(date +%s) - t ))
sha=$(sha256sum "$image" | cut -d' ' -f1)
cat > "$meta" <<JSON
{
  "recipe": "$recipe",
  "suite": "$suite",
  "mirror": "$mirror",
  "kernel": "$kernel",
  "disk_size": "$size",
  "admin_user": "$admin",
  "build_key": "$key",
  "sha256": "$sha",
  "size_bytes": $(stat -c %s "$image"),
  "made": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "seconds": {"debootstrap": $debootstrap_s, "kernel_grub": $kernel_s, "qcow2": $convert_s, "total": $(( $(date +%s) - start ))}
}
JSON
log "made $image (kernel $kernel, $(du -h "$image" | cut -f1)) in $(( $(date +%s) - start ))s"
