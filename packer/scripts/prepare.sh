# Runs as root on the guest before the first site pass (packer/demobox.pkr.hcl).
# Waits for the first boot to settle, then sets the build's apt proxy when there is one.
echo "vaultcube-stage: prepare"
if command -v cloud-init >/dev/null 2>&1; then
  # On Ubuntu, cloud-init's first boot still holds apt's lock when SSH answers.
  cloud-init status --wait >/dev/null || true
fi
systemctl is-system-running --wait >/dev/null 2>&1 || true
if [ -n "${APT_PROXY:-}" ]; then
  printf 'Acquire::http::Proxy "%s";\n' "$APT_PROXY" > /etc/apt/apt.conf.d/00vaultcube-build-proxy
  echo "apt proxy for this build: $APT_PROXY (removed by seal.sh)"
fi
. /etc/os-release
echo "guest: $PRETTY_NAME, kernel $(uname -r), $(nproc) CPUs, $(free -m | awk '/^Mem:/ {print $2}') MiB"
