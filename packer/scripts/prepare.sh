# Runs as root on the guest at the start of every Packer run of a build (packer/demobox.pkr.hcl).
# Waits for the boot to settle, then sets the build's apt proxy when there is one, or removes one
# that a cached layer snapshot kept from an earlier build.
echo "vaultcube-stage: prepare"
if command -v cloud-init >/dev/null 2>&1; then
  # On Ubuntu, cloud-init's first boot still holds apt's lock when SSH answers.
  cloud-init status --wait >/dev/null || true
fi
systemctl is-system-running --wait >/dev/null 2>&1 || true
if [ -n "${APT_PROXY:-}" ]; then
  printf 'Acquire::http::Proxy "%s";\n' "$APT_PROXY" > /etc/apt/apt.conf.d/00vaultcube-build-proxy
  echo "apt proxy for this build: $APT_PROXY (removed by seal.sh)"
elif [ -e /etc/apt/apt.conf.d/00vaultcube-build-proxy ]; then
  rm -f /etc/apt/apt.conf.d/00vaultcube-build-proxy
  echo "apt proxy of an earlier build removed (this build has none)"
fi
. /etc/os-release
echo "guest: $PRETTY_NAME, kernel $(uname -r), $(nproc) CPUs, $(free -m | awk '/^Mem:/ {print $2}') MiB"
