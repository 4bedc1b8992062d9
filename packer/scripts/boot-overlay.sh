# shellcheck shell=bash
# Sourced by second-boot.sh and apt-cache-measure.sh: boots IMAGE on a throw-away qcow2 overlay
# (the image is not changed, so its sha256 stays true) under QEMU, SSH forwarded to a free
# loopback port, and cleans up on exit.
#   boot_overlay IMAGE ACCEL     sets dir, port, ssh_opts; starts the clock in boot_start
#   wait_for_login KEY USER SECS  0 once USER logs in with KEY; sets boot_s
#   power_off KEY USER            asks the guest to power off and waits for QEMU to end
boot_overlay() {
  local image=$1 accel=$2
  dir=$(mktemp -d /tmp/vaultcube-boot.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  boot_start=$(date +%s)
  trap boot_cleanup EXIT
  ssh_opts=(-p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
            -o ConnectTimeout=20 -o LogLevel=ERROR -o IdentitiesOnly=yes)
  qemu-img create -q -f qcow2 -F qcow2 -b "$(realpath "$image")" "$dir/overlay.qcow2" \
    || { echo "$(basename "$0"): cannot make an overlay of $image" >&2; return 1; }
  qemu-system-x86_64 -accel "$accel" -smp 2 -m 2048 -display none -daemonize -pidfile "$dir/qemu.pid" \
    -drive "file=$dir/overlay.qcow2,if=virtio,format=qcow2,discard=unmap" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
    -serial "file:$dir/serial.log" || { echo "$(basename "$0"): qemu did not start" >&2; return 1; }
  echo "$(basename "$0"): booting $(basename "$image") ($accel, 2 vCPUs), ssh on 127.0.0.1:$port"
}

boot_cleanup() {
  if [ -s "$dir/qemu.pid" ] && kill -0 "$(cat "$dir/qemu.pid")" 2>/dev/null; then
    kill "$(cat "$dir/qemu.pid")" 2>/dev/null; sleep 2
    kill -9 "$(cat "$dir/qemu.pid")" 2>/dev/null
  fi
  rm -rf "$dir"
}

wait_for_login() {
  local key=$1 user=$2 wait_s=$3
  while [ $(( $(date +%s) - boot_start )) -lt "$wait_s" ]; do
    if ssh "${ssh_opts[@]}" -i "$key" "$user@127.0.0.1" true 2>/dev/null; then
      boot_s=$(( $(date +%s) - boot_start )); return 0
    fi
    sleep 5
  done
  boot_s=$(( $(date +%s) - boot_start ))
  return 1
}

power_off() {
  ssh "${ssh_opts[@]}" -i "$1" "$2@127.0.0.1" sudo systemctl poweroff >/dev/null 2>&1
  for _ in $(seq 1 60); do kill -0 "$(cat "$dir/qemu.pid" 2>/dev/null)" 2>/dev/null || break; sleep 2; done
}
