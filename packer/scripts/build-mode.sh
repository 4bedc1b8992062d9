# Runs as root on the guest (packer/demobox.pkr.hcl): settings that make package installs cheaper
# while an image is built, and their removal when it is sealed. Under emulation dpkg is the cost of a
# build, not downloads (docs/build-pipeline.md), so:
#   - dpkg's force-unsafe-io: no fsync per unpacked file (a crash mid-build throws the build away
#     anyway; the sealed image is synced and trimmed);
#   - man-db's index is not rebuilt after every apt transaction (its trigger checks
#     /var/lib/man-db/auto-update): one `mandb` at sealing instead;
#   - initramfs-tools does not regenerate the initramfs on every trigger (update_initramfs=no):
#     one `update-initramfs -u -k all` at sealing, only when dpkg.log shows a trigger was deferred;
#   - apt fetches no translation files (Acquire::Languages "none"); apt's lists go at sealing;
#   - unattended-upgrade (the security role applies pending security updates once) installs them in
#     one dpkg run instead of one per package group (Unattended-Upgrade::MinimalSteps "false"): each
#     step re-evaluates apt's cache in Python, about 70 s under emulation, 846 s for 13 packages
#     in the first layered build; the shipped box keeps the default (minimal steps, safe to stop).
#   BUILD_MODE=on     before a step's site pass (idempotent: a snapshot keeps it on)
#   BUILD_MODE=off    at sealing: every setting back as it was, the deferred work done once
#   BUILD_MODE=check  exit 1 with the list of build-only settings still present (the second boot)
mode=${BUILD_MODE:?BUILD_MODE is not set (on, off or check)}
state=/var/lib/vaultcube-build
dpkg_cfg=/etc/dpkg/dpkg.cfg.d/zz-vaultcube-build
apt_cfg=/etc/apt/apt.conf.d/zz-vaultcube-build
initramfs_conf=/etc/initramfs-tools/update-initramfs.conf
man_flag=/var/lib/man-db/auto-update

on() {
  # Each step enforces them again: a package installed in an earlier step (man-db's postinst makes
  # the auto-update flag) may have brought one back.
  mkdir -p "$state"
  echo force-unsafe-io > "$dpkg_cfg"
  printf '%s\n' 'Acquire::Languages "none";' 'Unattended-Upgrade::MinimalSteps "false";' > "$apt_cfg"
  if [ -e "$man_flag" ] && [ ! -e "$state/man-db-auto-update" ]; then
    mv "$man_flag" "$state/man-db-auto-update"
  fi
  if [ -f "$initramfs_conf" ] && grep -q '^update_initramfs=' "$initramfs_conf" && [ ! -e "$state/update-initramfs.conf" ]; then
    cp -p "$initramfs_conf" "$state/update-initramfs.conf"
    sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$initramfs_conf"
  fi
  # dpkg.log's own timestamp format, to find the triggers deferred from here on.
  [ -e "$state/since" ] || date '+%Y-%m-%d %H:%M:%S' > "$state/since"
  echo "vaultcube-stage: build mode (on since $(cat "$state/since"))"
}

off() {
  if [ ! -e "$state/since" ]; then
    echo "build mode: not on; nothing to undo."
    return 0
  fi
  echo "vaultcube-stage: build mode off"
  since=$(cat "$state/since")
  rm -f "$dpkg_cfg" "$apt_cfg"
  if [ -f "$state/update-initramfs.conf" ]; then
    cp -p "$state/update-initramfs.conf" "$initramfs_conf"
    if awk -v since="$since" '($1 " " $2) >= since && / trigproc initramfs-tools:/ {found=1} END {exit !found}' /var/log/dpkg.log; then
      echo "build mode: initramfs updates were deferred during the build; generating once"
      update-initramfs -u -k all
    else
      echo "build mode: no initramfs update was deferred"
    fi
  fi
  if [ -e "$state/man-db-auto-update" ]; then
    mv "$state/man-db-auto-update" "$man_flag"
    echo "build mode: rebuilding the man-db index once"
    mandb -q || echo "build mode: mandb failed (exit $?); man -k may miss pages until man-db's daily job runs"
  fi
  rm -rf "$state"
  echo "build mode: off"
}

check() {
  left=""
  for path in "$state" "$dpkg_cfg" "$apt_cfg"; do
    [ -e "$path" ] && left="$left $path"
  done
  if [ -f "$initramfs_conf" ] && grep -q '^update_initramfs=no' "$initramfs_conf"; then
    left="$left $initramfs_conf:update_initramfs=no"
  fi
  if dpkg-query -W -f '${Status}' man-db 2>/dev/null | grep -q 'install ok installed' && [ ! -e "$man_flag" ]; then
    left="$left $man_flag(missing)"
  fi
  if [ -n "$left" ]; then
    echo "build-only settings left:$left"
    return 1
  fi
  echo "no build-only settings"
}

case "$mode" in
  on) on ;;
  off) off ;;
  check) check ;;
  *) echo "build-mode: unknown BUILD_MODE '$mode' (on, off or check)." >&2; exit 2 ;;
esac
