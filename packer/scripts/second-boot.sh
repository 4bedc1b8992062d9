#!/usr/bin/env bash
# Boots a built image once more (on a throw-away overlay: the image itself is not changed, so its
# sha256 stays true) and checks it as a customer would get it:
#   packer/scripts/second-boot.sh IMAGE ADMIN_PRIVATE_KEY ADMIN_USER BUILD_PRIVATE_KEY OUT.json
# Checks what only a second boot of the image can see: the admin logs in with a key; passwords,
# root and the build key are refused from outside; new SSH host keys and machine-id; no apt proxy
# left from the build; none of the build-only dpkg/apt settings left; no failed unit. Then the layer-1 roles' own `verify` entry points (sshd's
# effective settings, UFW, fail2ban, unattended-upgrades, the admin, Docker running a container,
# ...: the same tasks the molecule scenarios run) through packer/ansible/second-boot.yml, one
# check per role (verify_base, verify_security, verify_hardening, verify_docker). Exit 0 only when every check passed.
# Environment: SECOND_BOOT_COLLECTIONS (the ANSIBLE_COLLECTIONS_PATH holding the vaultcube.demobox
# the image was built from; default: ANSIBLE_COLLECTIONS_PATH), SECOND_BOOT_EXTRA_VARS (files of
# the build's role variables, space-separated, each passed as -e @FILE).
# QEMU: TCG (or SECOND_BOOT_ACCEL), 2 vCPUs.
set -uo pipefail
# shellcheck source=packer/scripts/boot-overlay.sh
. "$(dirname "$0")/boot-overlay.sh"
here=$(cd "$(dirname "$0")" && pwd)
image=${1:?usage: $0 IMAGE KEY ADMIN_USER BUILD_KEY OUT.json}
key=${2:?}; admin=${3:?}; build_key=${4:?}; out=${5:?}
accel=${SECOND_BOOT_ACCEL:-tcg}
wait_s=${SECOND_BOOT_WAIT:-900}

as_admin() { ssh "${ssh_opts[@]}" -i "$key" "$admin@127.0.0.1" "$@"; }
check() {  # check NAME PASSED(0/1) DETAIL
  printf '%s\t%s\t%s\n' "$1" "$2" "$(echo "$3" | tr '\t\n' '  ' | cut -c1-300)" >> "$results"
  printf '%-24s %s  %s\n' "$1" "$([ "$2" = 1 ] && echo passed || echo FAILED)" "$(echo "$3" | head -1 | cut -c1-120)"
}

# The layer-1 roles' verify entry points, over SSH as the admin (become), one check per role. The
# image is an inventory name, not 127.0.0.1: Ansible takes a host named 127.0.0.1 for its
# localhost, so `delegate_to: localhost` (the outcome file) would run on the image.
verify_roles() {
  local roles_json=$dir/second-boot-roles.json log=$dir/second-boot-ansible.log f rc
  local -a extra=()
  for f in ${SECOND_BOOT_EXTRA_VARS:-}; do extra+=(-e "@$f"); done
  if ! command -v ansible-playbook >/dev/null; then
    check verify_roles 0 "ansible-playbook is not installed here (make venv), so the roles' verify entry points did not run"
    return
  fi
  SECOND_BOOT_RESULTS=$roles_json ANSIBLE_CONFIG=$here/../ansible/ansible.cfg ANSIBLE_NOCOLOR=1 \
    ANSIBLE_COLLECTIONS_PATH=${SECOND_BOOT_COLLECTIONS:-${ANSIBLE_COLLECTIONS_PATH:-}} ANSIBLE_SSH_CONTROL_PATH_DIR=$dir/cp \
    ansible-playbook -i vaultcube-image, -u "$admin" --private-key "$key" -e ansible_host=127.0.0.1 -e "ansible_port=$port" "${extra[@]}" \
    "$here/../ansible/second-boot.yml" > "$log" 2>&1
  rc=$?
  cp "$log" "$(dirname "$out")/second-boot-ansible.log" 2>/dev/null
  if [ ! -s "$roles_json" ]; then
    check verify_roles 0 "ansible-playbook (exit $rc) recorded no role outcome: $(tail -5 "$log")"
    return
  fi
  while IFS=$'\t' read -r name ok detail; do
    check "$name" "$ok" "$detail"
  done < <(python3 -c 'import json, sys
for role, res in json.load(open(sys.argv[1])).items():
    print("verify_%s\t%d\t%s" % (role, 1 if res["passed"] else 0, " ".join(str(res["detail"]).split())))' "$roles_json")
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

  hk=$(as_admin 'systemctl is-active vaultcube-ssh-hostkeys.service; sudo ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' 2>&1)
  check host_keys_new "$(echo "$hk" | head -1 | grep -qx active && echo "$hk" | grep -q ED25519 && echo 1 || echo 0)" "$hk"
  mid=$(as_admin cat /etc/machine-id 2>&1)
  check machine_id_new "$(echo "$mid" | grep -qE '^[0-9a-f]{32}$' && echo 1 || echo 0)" "machine-id $mid"

  # A build through an apt cache (APT_PROXY) must not leave the box depending on the build host.
  px=$(as_admin 'apt-config dump | grep -i "::proxy" || echo "no apt proxy"' 2>&1)
  check apt_proxy_removed "$([ "$px" = "no apt proxy" ] && echo 1 || echo 0)" "$px"
  # The build-only dpkg/apt settings (build-mode.sh) are gone and man-db/initramfs are as before.
  bm=$(as_admin 'sudo BUILD_MODE=check sh -s' < "$here/build-mode.sh" 2>&1)
  check build_settings_removed "$([ "$bm" = "no build-only settings" ] && echo 1 || echo 0)" "$bm"
  failed=$(as_admin systemctl --failed --no-legend --plain 2>&1)
  check no_failed_units "$([ -z "$failed" ] && echo 1 || echo 0)" "${failed:-none}"
  verify_roles
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
