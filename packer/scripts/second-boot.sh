#!/usr/bin/env bash
# Boots a built image once more (on a throw-away overlay: the image itself is not changed, so its
# sha256 stays true) and checks it as a customer would get it:
#   packer/scripts/second-boot.sh IMAGE ADMIN_PRIVATE_KEY ADMIN_USER BUILD_PRIVATE_KEY OUT.json
# Checks: the admin logs in with a key; passwords, root and the build key are refused; sshd's
# effective settings; new SSH host keys and machine-id; docker is active and runs a container;
# UFW is on; no apt proxy is left from the build. Exit 0 only when every check passed.
# QEMU: TCG (or SECOND_BOOT_ACCEL), 2 vCPUs.
set -uo pipefail
# shellcheck source=packer/scripts/boot-overlay.sh
. "$(dirname "$0")/boot-overlay.sh"
image=${1:?usage: $0 IMAGE KEY ADMIN_USER BUILD_KEY OUT.json}
key=${2:?}; admin=${3:?}; build_key=${4:?}; out=${5:?}
accel=${SECOND_BOOT_ACCEL:-tcg}
wait_s=${SECOND_BOOT_WAIT:-900}

as_admin() { ssh "${ssh_opts[@]}" -i "$key" "$admin@127.0.0.1" "$@"; }
check() {  # check NAME PASSED(0/1) DETAIL
  printf '%s\t%s\t%s\n' "$1" "$2" "$(echo "$3" | tr '\t\n' '  ' | cut -c1-300)" >> "$results"
  printf '%-24s %s  %s\n' "$1" "$([ "$2" = 1 ] && echo passed || echo FAILED)" "$(echo "$3" | head -1 | cut -c1-120)"
}

boot_overlay "$image" "$accel" || exit 1
results=$dir/results.tsv
: > "$results"
wait_for_login "$key" "$admin" "$wait_s"
up=$(( $? == 0 ))
if [ "$up" != 1 ]; then
  check admin_key_login 0 "no SSH login as $admin within ${wait_s}s; serial console tail: $(tail -5 "$dir/serial.log" 2>/dev/null)"
else
  who=$(as_admin id -un 2>&1)
  check admin_key_login "$([ "$who" = "$admin" ] && echo 1 || echo 0)" "logged in as $who with the admin key after ${boot_s}s"
  as_admin sudo systemctl is-system-running --wait >/dev/null 2>&1

  msg=$(ssh "${ssh_opts[@]}" -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
        "$admin@127.0.0.1" true 2>&1); rc=$?
  check password_refused "$([ $rc = 255 ] && echo "$msg" | grep -q 'Permission denied (publickey)' && echo 1 || echo 0)" "$msg"
  msg=$(ssh "${ssh_opts[@]}" -i "$key" root@127.0.0.1 true 2>&1); rc=$?
  check root_refused "$([ $rc = 255 ] && echo 1 || echo 0)" "root with the admin key: $msg"
  msg=$(ssh "${ssh_opts[@]}" -i "$build_key" "$admin@127.0.0.1" true 2>&1); rc=$?
  check build_key_refused "$([ $rc = 255 ] && echo 1 || echo 0)" "$admin with the build key: $msg"

  sshd=$(as_admin sudo sshd -T 2>&1)
  pw=$(echo "$sshd" | awk '$1=="passwordauthentication"{print $2}')
  root=$(echo "$sshd" | awk '$1=="permitrootlogin"{print $2}')
  kbd=$(echo "$sshd" | awk '$1=="kbdinteractiveauthentication"{print $2}')
  kex=$(echo "$sshd" | awk '$1=="kexalgorithms"{print $2}')
  ok=0; [ "$pw" = no ] && [ "$root" = no ] && [ "$kbd" = no ] && ! echo "$kex" | grep -q curve25519 && ok=1
  check sshd_effective "$ok" "passwordauthentication $pw, permitrootlogin $root, kbdinteractiveauthentication $kbd, kexalgorithms $kex"

  hk=$(as_admin 'systemctl is-active vaultcube-ssh-hostkeys.service; sudo ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' 2>&1)
  check host_keys_new "$(echo "$hk" | head -1 | grep -qx active && echo "$hk" | grep -q ED25519 && echo 1 || echo 0)" "$hk"
  mid=$(as_admin cat /etc/machine-id 2>&1)
  check machine_id_new "$(echo "$mid" | grep -qE '^[0-9a-f]{32}$' && echo 1 || echo 0)" "machine-id $mid"

  dk=$(as_admin 'systemctl is-active docker; sudo docker version --format "server {{.Server.Version}}"' 2>&1)
  check docker_active "$(echo "$dk" | head -1 | grep -qx active && echo 1 || echo 0)" "$dk"
  # No registry is needed: a one-binary image made from the box's own dash and C library.
  run=$(as_admin 'set -e; d=$(mktemp -d); cd /
    tar -chf "$d/probe.tar" usr/bin/dash $(ldd /usr/bin/dash | grep -o "/[^ ]*" | sed "s|^/||" | sort -u)
    sudo docker import "$d/probe.tar" vaultcube/probe:second-boot >/dev/null  # no -q: Debian 12 docker.io 20.10 lacks it
    sudo docker run --rm vaultcube/probe:second-boot /usr/bin/dash -c "read h < /proc/sys/kernel/hostname; echo docker-runs-in-\$h"
    sudo docker rmi -f vaultcube/probe:second-boot >/dev/null; rm -rf "$d"' 2>&1)
  # The image holds dash and its libraries only (dash's builtins do the work); a container's host
  # name is its short ID, so the line also shows it ran in a UTS namespace of its own.
  check docker_run "$(echo "$run" | grep -qxE 'docker-runs-in-[0-9a-f]{12}' && echo 1 || echo 0)" "$run"

  fw=$(as_admin sudo ufw status 2>&1)
  check ufw_active "$(echo "$fw" | grep -q 'Status: active' && echo "$fw" | grep -qE '^22(/tcp)? +ALLOW' && echo 1 || echo 0)" "$fw"
  # A build through an apt cache (APT_PROXY) must not leave the box depending on the build host.
  px=$(as_admin 'apt-config dump | grep -i "::proxy" || echo "no apt proxy"' 2>&1)
  check apt_proxy_removed "$([ "$px" = "no apt proxy" ] && echo 1 || echo 0)" "$px"
  failed=$(as_admin systemctl --failed --no-legend --plain 2>&1)
  check no_failed_units "$([ -z "$failed" ] && echo 1 || echo 0)" "${failed:-none}"
  power_off "$key" "$admin"
fi
total_s=$(( $(date +%s) - boot_start ))

python3 - "$results" "$out" "$image" "$boot_s" "$total_s" "$accel" <<'PY'
import datetime, json, sys
rows = [line.rstrip("\n").split("\t", 2) for line in open(sys.argv[1]) if line.strip()]
checks = [{"name": n, "passed": p == "1", "detail": d} for n, p, d in rows]
doc = {"image": sys.argv[3], "accelerator": sys.argv[6], "boot_to_ssh_seconds": int(sys.argv[4]),
       "total_seconds": int(sys.argv[5]), "passed": bool(checks) and all(c["passed"] for c in checks),
       "checked_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "checks": checks}
json.dump(doc, open(sys.argv[2], "w"), indent=2)
print("second-boot: %s (%d checks, %d failed), SSH after %ss, %ss in all" % (
    "passed" if doc["passed"] else "FAILED", len(checks), sum(not c["passed"] for c in checks), sys.argv[4], sys.argv[5]))
sys.exit(0 if doc["passed"] else 1)
PY
