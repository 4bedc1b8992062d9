# Runs as root on the guest at the end of a build (packer/demobox.pkr.hcl): what must not ship in
# a golden image. Packer's SSH connection stays open through both phases (it logged in with the
# build key, which goes in the first).
#   SEAL_PHASE=keys      before the image facts are read: the build key, the build's apt proxy
#   SEAL_PHASE=identity  last: SSH host keys and machine-id (made anew on each box's first boot),
#                        logs, temporary files, free blocks
phase=${SEAL_PHASE:?SEAL_PHASE is not set (keys or identity)}
admin=${ADMIN_USER:?ADMIN_USER is not set}
echo "vaultcube-stage: seal ($phase)"
home=$(getent passwd "$admin" | cut -d: -f6)
keys="$home/.ssh/authorized_keys"

seal_keys() {
  # Refuse to ship a box nobody can log in to: password logins are off.
  if [ "$(grep -v 'vaultcube-build-key' "$keys" | grep -cE '^(ssh-|ecdsa-|sk-)')" -lt 1 ]; then
    echo "seal: $keys would hold no key once the build key is removed; refusing to ship a locked-out image." >&2
    exit 1
  fi
  sed -i '/vaultcube-build-key/d' "$keys"
  echo "admin keys kept: $(grep -cE '^(ssh-|ecdsa-|sk-)' "$keys")"
  rm -f /etc/apt/apt.conf.d/00vaultcube-build-proxy
  apt-get clean
  rm -rf /var/lib/apt/lists/*
}

seal_identity() {
  rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
  cat > /etc/systemd/system/vaultcube-ssh-hostkeys.service <<'UNIT'
[Unit]
Description=Generate this machine's SSH host keys (VaultCube golden image, first boot)
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
Before=ssh.service ssh.socket
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
RequiredBy=ssh.service
UNIT
  systemctl enable vaultcube-ssh-hostkeys.service
  truncate -s 0 /etc/machine-id
  [ -L /var/lib/dbus/machine-id ] || rm -f /var/lib/dbus/machine-id
  if command -v cloud-init >/dev/null 2>&1; then cloud-init clean --logs; fi
  journalctl --rotate >/dev/null 2>&1 || true
  journalctl --vacuum-time=1s >/dev/null 2>&1 || true
  find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \) -delete
  find /var/log -type f -exec truncate -s 0 {} +
  rm -rf /tmp/* /var/tmp/* /root/.bash_history "$home/.bash_history" /root/.ansible "$home/.ansible"
  fstrim -av || true
  sync
}

case "$phase" in
  keys) seal_keys ;;
  identity) seal_identity ;;
  *) echo "seal: unknown SEAL_PHASE '$phase' (keys or identity)." >&2; exit 2 ;;
esac
echo "sealed ($phase)"
