#!/usr/bin/env bash
# The golden image in one command: `make image` (Debian 12 base, here) / `make image-ubuntu`.
#   packer/build.sh            build, check on a second boot, store, keep the last IMAGE_KEEP versions
#   packer/build.sh --no-cache the same, every layer step built anew (the new snapshots are kept)
#   packer/build.sh --validate prepare the same inputs, then `packer validate` + `packer fmt -check`
#   packer/build.sh --resume   after a failed second boot or store: run those again on the finished build
#
# A build is a chain of steps, one per role of vaultcube.demobox.site, each a Packer run on the
# disk the step before left; every step's disk is kept in the layer cache under a key of all it was
# made from (scripts/layer_cache.py), and a rebuild starts from the deepest snapshot that still
# matches. Sealing and the second boot always run.
#
# Settings (environment):
#   IMAGE_SOURCE       debian-base (default: a Debian 12 disk made here from Debian's archive) or
#                      ubuntu (the Ubuntu 24.04 live-server ISO with autoinstall: the product)
#   IMAGE_VERSION      MAJOR.MINOR.PATCH (default: galaxy.yml's version)
#   IMAGE_LAYERS       layer tags to build, from layer1 up, comma-separated (default: layer1)
#   IMAGE_ACCELERATOR  kvm | tcg | hvf (default: tcg for debian-base, kvm for ubuntu)
#   IMAGE_EXTRA_ROLES  roles of later layers to build without the rest of their layer, comma-separated
#                      (the Debian path: monitoring; a GPU-less build cannot run layers 2-3)
#   IMAGE_CACHE        on (default) | off: off = --no-cache
#   IMAGE_CACHE_KEEP   snapshots kept per role in the layer cache (default 2; never the build's own)
#   IMAGE_CACHE_MAX_GIB  an upper bound for the layer cache's size (default: none)
#   ADMIN_USER         the admin user (default vaultadmin)
#   ADMIN_KEYS         authorized_keys file of the admins (required for ubuntu; debian-base makes a
#                      development key pair in $VAULTCUBE_CACHE/dev-admin when unset)
#   SECOND_BOOT_KEY    private key for the second-boot check (default: ADMIN_KEYS without .pub)
#   SITE_VARS          YAML file of variables for vaultcube.demobox.site
#   APT_PROXY          apt proxy for the build only, e.g. http://10.0.2.2:3142 (an apt-cacher-ng on this host)
#   WHEELHOUSE_URL     wheelhouse for layer 4 (ai_frameworks_source: wheelhouse)
#   IMAGE_STORE        where versioned images are kept (default packer/output/images)
#   IMAGE_KEEP         versions kept in the store (default 3)
#   IMAGE_FORCE=1      replace a version already in the store
#   DISK_SIZE, CPUS (2), MEMORY (4096 MiB), DISK_COMPRESSION (false), ISO_URL, ISO_CHECKSUM
#   VAULTCUBE_CACHE    caches: Packer's ISO cache, the Debian base image, the layer snapshots
#                      (default ~/.cache/vaultcube; the snapshots in layers/, about 2-3 GiB each)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PK=$ROOT/packer
MODE=build
NO_CACHE=0
[ "${IMAGE_CACHE:-on}" = off ] && NO_CACHE=1
case "${IMAGE_CACHE:-on}" in on|off) ;; *) echo "build: IMAGE_CACHE must be on or off, not '${IMAGE_CACHE}'." >&2; exit 2 ;; esac
case "${1:-}" in
  --validate) MODE=validate ;;
  --resume) MODE=resume ;;
  --no-cache) NO_CACHE=1 ;;
  "") ;;
  *) echo "build: unknown argument '$1' (use --no-cache, --validate, --resume or nothing)." >&2; exit 2 ;;
esac

SOURCE=${IMAGE_SOURCE:-debian-base}
case "$SOURCE" in
  debian-base) ACCEL=${IMAGE_ACCELERATOR:-tcg} ;;
  ubuntu) ACCEL=${IMAGE_ACCELERATOR:-kvm} ;;
  *) echo "build: IMAGE_SOURCE must be debian-base or ubuntu, not '$SOURCE'." >&2; exit 2 ;;
esac
VERSION=${IMAGE_VERSION:-$(sed -n 's/^version: *//p' galaxy.yml)}
LAYERS=${IMAGE_LAYERS:-layer1}
EXTRA_ROLES=${IMAGE_EXTRA_ROLES:-}
CACHE_KEEP=${IMAGE_CACHE_KEEP:-2}
[[ "$CACHE_KEEP" =~ ^[1-9][0-9]*$ ]] || { echo "build: IMAGE_CACHE_KEEP must be a whole number of 1 or more, not '$CACHE_KEEP'." >&2; exit 2; }
[ -z "${IMAGE_CACHE_MAX_GIB:-}" ] || [[ "$IMAGE_CACHE_MAX_GIB" =~ ^[0-9]+([.][0-9]+)?$ ]] \
  || { echo "build: IMAGE_CACHE_MAX_GIB must be a number of GiB, not '$IMAGE_CACHE_MAX_GIB'." >&2; exit 2; }
ADMIN_USER=${ADMIN_USER:-vaultadmin}
CACHE=${VAULTCUBE_CACHE:-$HOME/.cache/vaultcube}
STORE=${IMAGE_STORE:-$PK/output/images}
LAYER_CACHE=$CACHE/layers
KEEP=${IMAGE_KEEP:-3}
export PACKER_CACHE_DIR=${PACKER_CACHE_DIR:-$CACHE/packer}
WORK=$PK/output/work-v$VERSION
[ "$MODE" = validate ] && WORK=$ROOT/build/packer-validate
OUTDIR=$WORK/packer
LOG=$WORK/build.log
PY=python3
pipeline() { "$PY" "$PK/scripts/pipeline.py" "$@"; }
layer_cache() { "$PY" "$PK/scripts/layer_cache.py" "$@"; }
die() { echo "build: $*" >&2; exit 1; }

# Ansible and ansible-galaxy: the project's venv when there is one (make venv), else PATH.
[ -x "$ROOT/.venv/bin/ansible-playbook" ] && export PATH="$ROOT/.venv/bin:$PATH"

declare -a SUMMARY=()
stage() {  # stage NAME COMMAND... : runs, times, logs; stops the build on failure
  local name=$1 start rc; shift
  echo; echo "=== $name ===" | tee -a "$LOG"
  start=$(date +%s)
  # In this shell (a stage sets variables for later ones), its output copied to the log.
  set +e; "$@" > >(tee -a "$LOG") 2>&1; rc=$?; set -e
  SUMMARY+=("$name"$'\t'"$(( $(date +%s) - start ))")
  printf '%s\t%s\n' "$name" "$(( $(date +%s) - start ))" >> "$WORK/stages-$PHASE.tsv"
  if [ "$rc" != 0 ]; then
    echo "build: stage '$name' failed (exit $rc); log: $LOG" >&2
    exit "$rc"
  fi
}

apt_proxy_answers() {  # an hour-long build should not find out at its first apt task
  local url=$1 host port
  [[ "$url" =~ ^http://([^/:]+):([0-9]+)/?$ ]] || die "APT_PROXY must look like http://HOST:PORT (e.g. http://10.0.2.2:3142), not $url."
  host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
  [ "$host" = 10.0.2.2 ] && host=127.0.0.1  # QEMU user networking: the guest's 10.0.2.2 is this host
  "$PY" -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 5).close()' "$host" "$port" 2>/dev/null \
    || die "APT_PROXY=$url: nothing answers on $host:$port (make apt-cache starts apt-cacher-ng on this host), or unset APT_PROXY."
  echo "apt proxy for the build: $url ($host:$port answers)"
}

preflight() {
  local tool
  for tool in packer git "$PY" ansible-playbook ansible-galaxy ssh-keygen; do
    command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install packer git openssh-client; make venv for Ansible)."
  done
  if [ "$MODE" = build ]; then
    for tool in qemu-system-x86_64 qemu-img; do
      command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install qemu-system-x86 qemu-utils)."
    done
    [ "$ACCEL" != kvm ] || [ -w /dev/kvm ] || die "IMAGE_ACCELERATOR=kvm but /dev/kvm is not usable here; use IMAGE_ACCELERATOR=tcg."
    if [ -d "$STORE/vault-cube-demo-box-v$VERSION" ] && [ "${IMAGE_FORCE:-0}" != 1 ]; then
      die "version $VERSION is already in $STORE; images are immutable: set IMAGE_VERSION to a new version or IMAGE_FORCE=1."
    fi
    [ -z "${APT_PROXY:-}" ] || apt_proxy_answers "$APT_PROXY"
  fi
  ROLES=$(layer_cache roles --layers "$LAYERS" --extra "$EXTRA_ROLES") || exit 2
  echo "packer: $(packer version | head -1)"
  echo "ansible: $(ansible-playbook --version 2>/dev/null | sed -n 1p)"
  echo "source $SOURCE, version $VERSION, layers $LAYERS (roles $ROLES), accelerator $ACCEL, $(nproc) host CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "layer cache: $LAYER_CACHE ($([ "$NO_CACHE" = 1 ] && echo 'off: every step built anew' || echo on), keep $CACHE_KEEP per role)"
}

collection() {
  # The image is made from exactly this commit: the tarball is built from `git archive HEAD`,
  # so uncommitted changes are not in it (and the manifest says whether there were any).
  local commit dirty=0 tarball
  commit=$(git rev-parse HEAD)
  [ -z "$(git status --porcelain --untracked-files=no)" ] || dirty=1
  [ "$dirty" = 0 ] || echo "NOTE: the checkout has uncommitted changes; the image is built from commit $commit without them."
  rm -rf "$WORK/src" "$WORK/collections" && mkdir -p "$WORK/src"
  git archive --format=tar HEAD | tar -x -C "$WORK/src"
  ansible-galaxy collection build --force --output-path "$WORK" "$WORK/src" >/dev/null
  tarball=$(ls "$WORK"/vaultcube-demobox-*.tar.gz)
  ANSIBLE_COLLECTIONS_PATH=$WORK/collections ansible-galaxy collection install --no-deps --force -p "$WORK/collections" "$tarball" >/dev/null
  [ -f "$WORK/collections/ansible_collections/vaultcube/demobox/playbooks/site.yml" ] \
    || die "the collection of commit $commit has no playbooks/site.yml (vaultcube.demobox.site) to run."
  pipeline collection --tarball "$tarball" --commit "$commit" --dirty "$dirty" --out "$WORK/collection.json"
  echo "collection: $(basename "$tarball") from commit $commit$([ "$dirty" = 1 ] && echo ' (checkout had uncommitted changes)')"
  rm -rf "$WORK/src"
}

base_image() {
  BASE_DIR=$CACHE/debian-base
  if [ "$MODE" = validate ]; then
    BASE_IMAGE=$WORK/debian-12-base.qcow2; BASE_SUM=none
    return 0
  fi
  ADMIN_USER=$ADMIN_USER "$PK/scripts/make-debian-base.sh" "$BASE_DIR"
  BASE_IMAGE=$BASE_DIR/debian-12-base.qcow2
  BASE_SUM="sha256:$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$BASE_DIR/debian-12-base.json")"
}

key_paths() {  # where the build key and the admin keys are; keys() makes the ones a build needs
  if [ "$MODE" = validate ]; then
    BUILD_KEY=$WORK/keys/build_ed25519
  elif [ "$SOURCE" = debian-base ]; then
    BUILD_KEY=$CACHE/debian-base/build_ed25519  # the key the base image's admin accepts
  else
    BUILD_KEY=$CACHE/ubuntu-install/build_ed25519  # the key the cached install's admin accepts
  fi
  DEV_ADMIN_KEY=$CACHE/dev-admin/admin_ed25519  # used when ADMIN_KEYS is not given
  ADMIN_KEYS_GIVEN=${ADMIN_KEYS:-}
  ADMIN_KEYS=${ADMIN_KEYS:-$DEV_ADMIN_KEY.pub}
  SECOND_BOOT_KEY=${SECOND_BOOT_KEY:-${ADMIN_KEYS%.pub}}
}

keys() {
  key_paths
  mkdir -p "$WORK/keys" "$(dirname "$BUILD_KEY")"
  # The build key leaves every image at sealing; it is kept so that cached snapshots stay usable.
  [ -s "$BUILD_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C vaultcube-build-key -f "$BUILD_KEY"
  if [ -z "$ADMIN_KEYS_GIVEN" ]; then
    [ "$SOURCE" = ubuntu ] && [ "$MODE" = build ] && die "IMAGE_SOURCE=ubuntu needs ADMIN_KEYS=<authorized_keys file>: the keys that may log in to every box made from the image."
    mkdir -p "$(dirname "$DEV_ADMIN_KEY")"
    [ -s "$DEV_ADMIN_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C "vaultcube-dev-admin" -f "$DEV_ADMIN_KEY"
    echo "NOTE: no ADMIN_KEYS given: the image accepts the development key $DEV_ADMIN_KEY only."
  fi
  pipeline render-http --template "$PK/http/user-data.in" --out "$WORK/http" --admin-user "$ADMIN_USER" \
    --keys "$ADMIN_KEYS" --build-key "$BUILD_KEY.pub"
  # The admin keys as an HCL list for -var.
  ADMIN_KEYS_HCL=$("$PY" -c 'import json,sys; print(json.dumps([l.strip() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]))' "$ADMIN_KEYS")
}

build_info() {
  "$PY" - "$WORK/build-info.json" <<PY
import json, subprocess, sys
def first(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True, check=False).stdout.splitlines()[0]
import re
packer = re.search(r"(\d+\.\d+\.\d+)", first(["packer", "version"])).group(1)
ansible = re.search(r"(\d+\.\d+\.\d+)", first(["ansible-playbook", "--version"])).group(1)
info = {"source": "$SOURCE", "accelerator": "$ACCEL", "packer_version": packer, "ansible_core_version": ansible,
        "host": {"cpus": $(nproc), "load_at_start": "$(cut -d' ' -f1-3 /proc/loadavg)"}, "guest": {"cpus": ${CPUS:-2}, "memory_mib": ${MEMORY:-4096}},
        "apt_proxy": "${APT_PROXY:-}" or None}  # the build's apt cache, if any (removed from the image)
if "$SOURCE" == "debian-base":
    info["base"] = json.load(open("$CACHE/debian-base/debian-12-base.json")) if "$MODE" == "build" else None
else:
    info["iso"] = {"url": "${ISO_URL:-default}", "checksum": "${ISO_CHECKSUM:-default}"}
json.dump(info, open(sys.argv[1], "w"), indent=2, sort_keys=True)
PY
}

packer_vars() {  # the variables every Packer run of this build gets
  local layers_hcl
  layers_hcl=$("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1].split(",")))' "$LAYERS")
  PACKER_ARGS=(
    -var "version=$VERSION" -var "layer_tags=$layers_hcl"
    -var "collections_dir=$WORK/collections" -var "work_dir=$WORK"
    -var "admin_user=$ADMIN_USER" -var "admin_authorized_keys=$ADMIN_KEYS_HCL" -var "build_private_key=$BUILD_KEY"
    -var "http_directory=$WORK/http" -var "accelerator=$ACCEL" -var "cpus=${CPUS:-2}" -var "memory=${MEMORY:-4096}"
    -var "disk_compression=${DISK_COMPRESSION:-false}"
  )
  [ -n "${SITE_VARS:-}" ] && PACKER_ARGS+=(-var "site_vars_file=$(realpath "$SITE_VARS")")
  [ -n "${APT_PROXY:-}" ] && PACKER_ARGS+=(-var "apt_proxy=$APT_PROXY")
  [ -n "${WHEELHOUSE_URL:-}" ] && PACKER_ARGS+=(-var "wheelhouse_url=$WHEELHOUSE_URL")
  [ -n "${DISK_SIZE:-}" ] && PACKER_ARGS+=(-var "disk_size=$DISK_SIZE")
  [ -n "${ISO_URL:-}" ] && PACKER_ARGS+=(-var "iso_url=$ISO_URL")
  if [ -n "${ISO_CHECKSUM:-}" ]; then
    PACKER_ARGS+=(-var "iso_checksum=$ISO_CHECKSUM")
  elif [ "$MODE" = validate ]; then
    # `packer validate` fetches a file: checksum (the default, Ubuntu's SHA256SUMS); CI and this
    # machine cannot reach releases.ubuntu.com, so validation checks the template with a
    # well-formed stand-in digest instead. A real build uses the default or ISO_CHECKSUM.
    PACKER_ARGS+=(-var "iso_checksum=sha256:$(printf '0%.0s' $(seq 64))")
  fi
  return 0
}

# What every step's result depends on besides the files layer_cache.py hashes itself: the admin
# and its keys, the build key, the site variables file's content, the wheelhouse. Not the
# accelerator, CPUs, memory or apt proxy: they change how fast a step runs, not what it makes.
step_inputs() {
  "$PY" - "$WORK/step-inputs.json" "$ADMIN_USER" "$ADMIN_KEYS" "$BUILD_KEY.pub" "${SITE_VARS:-}" "${WHEELHOUSE_URL:-}" <<'PY'
import hashlib, json, sys
out, admin, keys, build_pub, site_vars, wheelhouse = sys.argv[1:7]
doc = {"admin_user": admin, "admin_keys": [l.strip() for l in open(keys) if l.strip() and not l.startswith("#")],
       "build_key": open(build_pub).read().strip(),
       "site_vars_sha256": hashlib.sha256(open(site_vars, "rb").read()).hexdigest() if site_vars else None,
       "wheelhouse_url": wheelhouse or None}
json.dump(doc, open(out, "w"), indent=2, sort_keys=True)
PY
}

# The first disk: the Debian base (its sha256 is the chain's first key) or the Ubuntu install,
# itself kept in the layer cache (checked, recorded and pruned like a step) under the key of the
# ISO, user-data, template and prepare.sh.
first_disk() {
  if [ "$SOURCE" = debian-base ]; then
    PARENT_IMAGE=$BASE_IMAGE; PARENT_KEY=$BASE_SUM
    return 0
  fi
  local found rc=0 start
  echo "${ISO_URL:-default} ${ISO_CHECKSUM:-default}" > "$WORK/iso.txt"
  local inputs=("$WORK/iso.txt" "$WORK/http/user-data" "$PK/demobox.pkr.hcl" "$PK/scripts/prepare.sh")
  found=$(layer_cache first --cache "$LAYER_CACHE" --inputs "${inputs[@]}" $([ "$NO_CACHE" = 1 ] && echo --no-cache)) || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || return 1
  PARENT_KEY=${found%% *}; PARENT_IMAGE=${found#* }
  if [ "$rc" = 0 ]; then
    echo "ubuntu install: from the cache ($(basename "$PARENT_IMAGE"))"
    return 0
  fi
  rm -rf "$WORK/install"; start=$(date +%s)
  packer build -timestamp-ui -color=false -only=qemu.ubuntu "${PACKER_ARGS[@]}" -var "output_directory=$WORK/install" \
    -var "serial_log=$WORK/serial-install.log" "$PK/demobox.pkr.hcl" | tee "$WORK/packer-install.log"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  layer_cache first --cache "$LAYER_CACHE" --inputs "${inputs[@]}" --disk "$WORK/install/vault-cube-demo-box-v$VERSION.qcow2" \
    --seconds $(( $(date +%s) - start )) >/dev/null
  rm -rf "$WORK/install"
}

layer_plan() {
  step_inputs
  layer_cache plan --cache "$LAYER_CACHE" --collection "$WORK/collections/ansible_collections/vaultcube/demobox" \
    --packer-dir "$PK" --roles "$ROLES" --parent-key "$PARENT_KEY" --parent-image "$PARENT_IMAGE" \
    --vars-file "$WORK/step-inputs.json" $([ "$NO_CACHE" = 1 ] && echo --no-cache) --out "$WORK/layers.json"
}

step_field() {  # step_field INDEX FIELD: one field of the plan's step (lists as JSON)
  "$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))["steps"][int(sys.argv[2])]
f=sys.argv[3]; v=v["arguments"][f] if f in ("tags","skip_tags","layers") else v[f]
print(json.dumps(v) if isinstance(v, list) else v)' "$WORK/layers.json" "$1" "$2"
}

build_step() {  # build_step INDEX: one role on the previous step's disk, kept in the layer cache
  local i=$1 role out start
  role=$(step_field "$i" role); out=$WORK/step-$role; start=$(date +%s)
  rm -rf "$out" "$WORK/facts-$role"
  packer build -timestamp-ui -color=false -only=qemu.layer "${PACKER_ARGS[@]}" \
    -var "parent_image=$(step_field "$i" parent_image)" -var "step_role=$role" \
    -var "step_tags=$(step_field "$i" tags)" -var "step_skip_tags=$(step_field "$i" skip_tags)" \
    -var "step_layers=$(step_field "$i" layers)" -var "output_directory=$out" -var "serial_log=$WORK/serial-$role.log" \
    "$PK/demobox.pkr.hcl" | tee "$WORK/packer-$role.log"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  layer_cache put --plan "$WORK/layers.json" --step "$i" --image "$out/$role.qcow2" --seconds $(( $(date +%s) - start ))
  rm -rf "$out"
}

run_seal() {  # the seal on the last step's disk: the image, its facts and manifest
  local last
  last=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"][-1]["image"])' "$WORK/layers.json")
  rm -rf "$OUTDIR" "$WORK/facts-seal"
  packer build -timestamp-ui -color=false -only=qemu.seal "${PACKER_ARGS[@]}" -var "parent_image=$last" \
    -var "step_role=seal" -var "output_directory=$OUTDIR" -var "serial_log=$WORK/serial.log" "$PK/demobox.pkr.hcl" \
    | tee "$WORK/packer.log"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  layer_cache record --plan "$WORK/layers.json" --manifest "$OUTDIR/image-manifest.json"
}

prune_cache() {
  layer_cache prune --cache "$LAYER_CACHE" --keep "$CACHE_KEEP" --plan "$WORK/layers.json" \
    ${IMAGE_CACHE_MAX_GIB:+--max-gib "$IMAGE_CACHE_MAX_GIB"}
}

validate() {
  (cd "$PK" && packer fmt -check .) || die "packer fmt -check: run \`packer fmt packer/demobox.pkr.hcl\` (and plugins.pkr.hcl)."
  packer validate "${PACKER_ARGS[@]}" -var "parent_image=$WORK/parent.qcow2" -var "output_directory=$OUTDIR" "$PK/demobox.pkr.hcl"
  # The second-boot check's playbook (the layer-1 roles' verify entry points) against this collection.
  second_boot_vars
  ANSIBLE_CONFIG=$PK/ansible/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$WORK/collections \
    ansible-playbook --syntax-check -i 127.0.0.1, -e "@$WORK/second-boot-vars.json" "$PK/ansible/second-boot.yml"
  ANSIBLE_CONFIG=$PK/ansible/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$WORK/collections \
    ansible-playbook --syntax-check -i 127.0.0.1, "$PK/ansible/seal.yml"
}

resume_keys() {  # --resume: the keys the finished build used, nothing new
  key_paths
  [ -s "$BUILD_KEY" ] || die "--resume: the build key $BUILD_KEY of the finished build is gone."
  echo "resume: $OUTDIR/vault-cube-demo-box-v$VERSION.qcow2 from the finished packer build; second boot and store again"
}

second_boot() {
  if [ ! -s "$SECOND_BOOT_KEY" ]; then
    echo "SKIPPED: no private key for the second-boot check (set SECOND_BOOT_KEY to one of ADMIN_KEYS' private keys)."
    return 0
  fi
  second_boot_vars
  SECOND_BOOT_COLLECTIONS=$WORK/collections SECOND_BOOT_EXTRA_VARS="$WORK/second-boot-vars.json${SITE_VARS:+ $(realpath "$SITE_VARS")}" \
    "$PK/scripts/second-boot.sh" "$OUTDIR/vault-cube-demo-box-v$VERSION.qcow2" "$SECOND_BOOT_KEY" "$ADMIN_USER" \
    "$BUILD_KEY" "$OUTDIR/second-boot.json"
}

second_boot_vars() {  # the sealing pass's role variables, for the roles' verify entry points (packer/ansible/second-boot.yml)
  "$PY" - "$ADMIN_USER" "$ADMIN_KEYS" "$WORK/second-boot-vars.json" <<'PY'
import json, sys
keys = [l.strip() for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
json.dump({"base_admin_user": sys.argv[1], "base_admin_authorized_keys": keys}, open(sys.argv[3], "w"), indent=2)
PY
}

store() {
  pipeline images add --store "$STORE" --source "$OUTDIR" --version "$VERSION" --keep "$KEEP" \
    --extra "$OUTDIR/second-boot.json" "$WORK/build.log" "$WORK/packer.log" "$WORK/serial.log" \
    $([ "${IMAGE_FORCE:-0}" = 1 ] && echo --force)
  pipeline images list --store "$STORE"
}

if [ "$MODE" = resume ]; then
  # After a failed second boot or store: the image and its manifest are kept, so only the stages
  # after `packer build` run again (the build's own stage times stay in stages-pre.tsv).
  [ -s "$OUTDIR/vault-cube-demo-box-v$VERSION.qcow2" ] && [ -s "$OUTDIR/image-manifest.json" ] \
    || die "--resume needs the finished packer build of version $VERSION in $OUTDIR; run packer/build.sh without it."
  PHASE=post; : > "$WORK/stages-post.tsv"; echo "=== resume $(date -u +%FT%TZ) ===" >> "$LOG"
  stage "resume" resume_keys
else
  rm -rf "$WORK"; mkdir -p "$WORK"; : > "$LOG"
  PHASE=pre
  stage "preflight" preflight
  stage "collection (git archive HEAD -> tarball)" collection
  if [ "$SOURCE" = debian-base ]; then stage "debian base image (cached)" base_image; else base_image; fi
  stage "keys and http/user-data" keys
  build_info
  packer_vars
  if [ "$MODE" = validate ]; then
    stage "packer fmt -check + validate" validate
    exit 0
  fi
  if [ "$SOURCE" = ubuntu ]; then stage "ubuntu install (cached)" first_disk; else first_disk; fi
  stage "layer plan" layer_plan
  nsteps=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["steps"]))' "$WORK/layers.json")
  first=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["start"])' "$WORK/layers.json")
  for (( i = 0; i < nsteps; i++ )); do
    role=$(step_field "$i" role)
    if [ "$i" -lt "$first" ]; then
      SUMMARY+=("layer $role (from the cache)"$'\t'0)
      printf '%s\t%s\n' "layer $role (from the cache)" 0 >> "$WORK/stages-$PHASE.tsv"
    else
      stage "layer $role (built)" build_step "$i"
    fi
  done
  stage "packer build (seal)" run_seal
  stage "layer cache prune (keep $CACHE_KEEP)" prune_cache
  PHASE=post
fi
stage "second boot check" second_boot
MANIFEST=$OUTDIR/image-manifest.json
pipeline stages --pre "$WORK/stages-pre.tsv" --log "$WORK/packer.log" --post "$WORK/stages-post.tsv" --manifest "$MANIFEST" \
  | tee "$WORK/build-summary.txt"
stage "store (keep $KEEP)" store
echo
echo "=== summary ==="
cat "$WORK/build-summary.txt"
printf '%s\t%s\n' "${SUMMARY[@]: -1}" | sed 's/\t/  /'
echo "image: $STORE/vault-cube-demo-box-v$VERSION/vault-cube-demo-box-v$VERSION.qcow2"
