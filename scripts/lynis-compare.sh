#!/usr/bin/env bash
# Score a fresh Debian 12 systemd container with Lynis (Debian's package), as one of three variants:
#   scripts/lynis-compare.sh stock    the image as built (molecule/shared/build-image.sh)
#   scripts/lynis-compare.sh devsec   devsec.hardening's os_hardening + ssh_hardening, from DEVSEC_VENV
#   scripts/lynis-compare.sh ours     this collection's layer 1 (base, security, hardening, docker)
#   scripts/lynis-compare.sh layer1   the same without the hardening role (--skip-tags hardening)
# Each variant gets a new container (lynis-<variant>, the options of .config/molecule/config.yml),
# converged with ansible-playbook over the docker connection, then `apt-get install lynis` and
# `lynis audit system --quick` inside it. Prints one line (variant, Lynis version, hardening index,
# warnings, suggestions) and keeps the report and log in build/lynis/<variant>/. The container is
# removed at the end unless KEEP=1. docs/layer1.md has the figures and what a container cannot show.
#
# devsec: DEVSEC_VENV (default /tmp/devsec-venv) must hold an ansible-playbook whose collections
# include devsec.hardening (e.g. `ansible-galaxy collection install devsec.hardening:==10.6.0 -p
# "$DEVSEC_VENV/collections"` where Galaxy is reachable; DEVSEC_COLLECTIONS names that path).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
variant=${1:?usage: $0 stock|devsec|ours|layer1}
image=${IMAGE:-local/debian12-systemd:latest}
name=${NAME:-lynis-$variant}
out=$ROOT/build/lynis/$variant
work=$(mktemp -d)
trap 'rm -rf "$work"; [ "${KEEP:-0}" = 1 ] || docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
mkdir -p "$out"

docker rm -f "$name" >/dev/null 2>&1 || true
docker run -d --name "$name" --hostname "$name" --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined --cgroupns host \
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /tmp "$image" /lib/systemd/systemd >/dev/null
for _ in $(seq 30); do
  state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 2
done

inventory=$work/inventory.yml
cat > "$inventory" <<EOF
all:
  hosts:
    $name:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: /usr/bin/python3
EOF

case "$variant" in
  stock) ;;
  ours|layer1)
    make -s collection >/dev/null
    skip=$([ "$variant" = layer1 ] && echo hardening || true)
    ssh-keygen -q -t ed25519 -N '' -f "$work/admin" >/dev/null
    # As molecule layer1 converges it (the roles' defaults, sshd's banner included), with the two
    # settings Docker needs inside a container (.config/molecule/config.yml).
    cat > "$work/vars.yml" <<EOF
base_admin_authorized_keys: ["$(cat "$work/admin.pub")"]
docker_storage_driver: vfs
docker_service_environment: {DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE: "1"}
vaultcube_site_layers: [1]
EOF
    ANSIBLE_COLLECTIONS_PATH=$ROOT/build/collections "$ROOT/.venv/bin/ansible-playbook" -i "$inventory" \
      -e "@$work/vars.yml" ${skip:+--skip-tags "$skip"} vaultcube.demobox.site > "$out/converge.log" 2>&1 \
      || { tail -30 "$out/converge.log"; exit 1; }
    ;;
  devsec)
    venv=${DEVSEC_VENV:-/tmp/devsec-venv}
    if [ ! -x "$venv/bin/ansible-playbook" ]; then
      echo "devsec: $venv/bin/ansible-playbook does not exist (see this script's header)"; exit 2
    fi
    # Defaults of both roles; os_hardening's sysctl step is off because /proc/sys is read-only in
    # a container (the same kernel values are then scored for every variant).
    cat > "$work/devsec.yml" <<'EOF'
- name: devsec.hardening on a fresh host.
  hosts: all
  become: true
  vars:
    os_sysctl_enabled: false
  roles:
    - devsec.hardening.os_hardening
    - devsec.hardening.ssh_hardening
EOF
    docker exec "$name" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq openssh-server >/dev/null'
    ANSIBLE_COLLECTIONS_PATH=${DEVSEC_COLLECTIONS:-$venv/collections} "$venv/bin/ansible-playbook" -i "$inventory" \
      "$work/devsec.yml" > "$out/converge.log" 2>&1 || { tail -30 "$out/converge.log"; exit 1; }
    ;;
  *) echo "usage: $0 stock|devsec|ours|layer1" >&2; exit 2 ;;
esac

docker exec "$name" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq lynis >/dev/null 2>&1'
docker exec "$name" sh -c 'lynis audit system --quick --no-colors > /var/log/lynis-screen.txt 2>&1; true'
docker exec "$name" cat /var/log/lynis-report.dat > "$out/lynis-report.dat"
docker exec "$name" cat /var/log/lynis.log > "$out/lynis.log"
docker exec "$name" cat /var/log/lynis-screen.txt > "$out/lynis-screen.txt"
python3 - "$variant" "$out/lynis-report.dat" <<'PY'
import sys
variant, path = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines()
def value(key):
    return next((l.split("=", 1)[1] for l in lines if l.startswith(key + "=")), "?")
warnings = sum(l.startswith("warning[]=") for l in lines)
suggestions = sum(l.startswith("suggestion[]=") for l in lines)
print(f"{variant}: Lynis {value('lynis_version')}, hardening index {value('hardening_index')}, "
      f"{warnings} warnings, {suggestions} suggestions")
PY
