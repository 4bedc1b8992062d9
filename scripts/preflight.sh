#!/usr/bin/env bash
# What a make target needs from this machine, checked in seconds before its first stage:
#   scripts/preflight.sh [--install] demo|test|test-heavy|image|image-ubuntu|apt-cache
# Everything present: one line, exit 0. Something missing: as root or with passwordless sudo it
# installs it with apt-get (saying what) and starts dockerd, as CI's fresh machine needs; otherwise
# (or with VAULTCUBE_PREFLIGHT_INSTALL=0) it stops with one sentence naming what is missing and the
# one command that provides it (`sudo scripts/preflight.sh --install TARGET`), exit 1.
# --install: provide what is missing (the command that sentence names); fails if it cannot.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
install=auto
[ "${1:-}" = --install ] && { install=yes; shift; }
[ "${VAULTCUBE_PREFLIGHT_INSTALL:-}" = 0 ] && [ "$install" = auto ] && install=no
target=${1:?usage: scripts/preflight.sh [--install] demo|test|test-heavy|image|image-ubuntu|apt-cache}

declare -a missing=() pkgs=() notes=()
start_docker=0 build_images=0 root_needed=""
need() {  # need DESCRIPTION PACKAGE...: record something missing and the Debian packages that provide it
  local what=$1; shift
  [[ " ${missing[*]} " == *" $what "* ]] || missing+=("$what")
  pkgs+=("$@")
}
have() { PATH=$PATH:/usr/sbin:/sbin command -v "$1" >/dev/null 2>&1; }  # debootstrap, dockerd: sbin
free_gib() {  # free GiB on the filesystem that holds PATH (its nearest existing parent)
  local p=$1
  until [ -e "$p" ]; do p=$(dirname "$p"); done
  df -Pk "$p" | awk 'NR == 2 {print int($4 / 1048576)}'
}
disk() {  # disk PATH GIB WHAT
  local have_gib; have_gib=$(free_gib "$1")
  [ "$have_gib" -ge "$2" ] || missing+=("$2 GiB free for $3 under $1 (it has $have_gib GiB)")
}

# The venv's Python (ansible-core 2.21 needs 3.12+) with venv and ensurepip, unless .venv is current.
check_python() {
  local stamp py ver pkg
  stamp="$ROOT/${VENV:-.venv}/.requirements.sha256"
  if [ -x "$ROOT/${VENV:-.venv}/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$(sha256sum requirements-dev.txt | cut -d' ' -f1)" ]; then
    return 0
  fi
  if py=$(scripts/find-python.sh 2>/dev/null); then
    "$py" -c 'import ensurepip, venv' 2>/dev/null && return 0
    ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    case "$py" in
      /usr/bin/*) pkg=python$ver-venv ;;
      *) notes+=("$py has no ensurepip: rebuild it or point VAULTCUBE_PYTHON at another Python 3.12+"); missing+=("ensurepip for $py"); return 0 ;;
    esac
    need "python$ver-venv (for $py)" "$pkg"
  elif apt-cache show python3.12-venv >/dev/null 2>&1; then
    need "Python 3.12" python3.12 python3.12-venv
  else
    missing+=("a Python 3.12 or newer")
    notes+=("$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-this system}") has no Python 3.12 package: install one with 'pyenv install 3.12' and set VAULTCUBE_PYTHON=\$(pyenv prefix 3.12)/bin/python3")
  fi
}

# The stand-in AI venv (.venv-ai, torch CPU) that unit and integration tests make from python3.
check_ai_python() {
  local want py
  want=$(cat requirements-ai-test.txt scripts/ai-venv.sh | sha256sum | cut -d' ' -f1)
  [ -x "$ROOT/.venv-ai/bin/python" ] && [ "$(cat "$ROOT/.venv-ai/.stamp" 2>/dev/null)" = "$want" ] && return 0
  py=${AI_PYTHON:-$(type -ap python3 | grep -v "^$ROOT/" | head -1)}
  [ -n "$py" ] || { need "python3 (for the AI test venv)" python3 python3-venv; return 0; }
  "$py" -c 'import ensurepip, venv' 2>/dev/null || need "python3-venv (the AI test venv is made with $py)" python3-venv
}

check_docker() {
  local err
  err=$(docker info 2>&1) && return 0
  if ! have docker || ! have dockerd; then
    need "Docker" docker.io; start_docker=1
  elif [[ "$err" == *"permission denied"* ]]; then
    missing+=("access to the Docker daemon for $(id -un)")
    notes+=("add $(id -un) to the docker group (sudo usermod -aG docker $(id -un)) and log in again")
  else
    missing+=("a running Docker daemon"); start_docker=1
  fi
}

# The molecule base images: made with debootstrap, which needs root.
check_images() {
  local s tag
  for s in bookworm:local/debian12-systemd trixie:local/debian13-systemd; do
    tag=${s#*:} s=${s%%:*}
    # current = labelled with the recipe hash molecule/shared/build-image.sh gives it (its own sha256)
    [ "$(docker image inspect -f '{{ index .Config.Labels "vaultcube.recipe" }}' "$tag" 2>/dev/null)" \
      = "$(sha256sum molecule/shared/build-image.sh | cut -c1-16)" ] && continue
    have debootstrap || need debootstrap debootstrap
    [ "$(id -u)" = 0 ] || build_images=1
  done
  [ "$build_images" = 0 ] || missing+=("the molecule base images (debootstrap needs root to make them)")
}

tool() {  # tool COMMAND PACKAGE...
  local cmd=$1; shift
  have "$cmd" || need "$cmd" "$@"
}

case "$target" in
  demo)
    check_python ;;
  test)
    check_python
    tool git git
    check_ai_python
    check_docker
    check_images
    tool packer packer
    tool ssh openssh-client
    tool xz xz-utils
    tool chromium chromium
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need "the DejaVu fonts (for Chromium)" fonts-dejavu-core
    disk "$ROOT" 6 "the venvs, the test copies and the molecule images" ;;
  test-heavy)
    check_python
    tool git git
    check_docker
    check_images
    disk "$ROOT" 6 "the venvs and the molecule images" ;;
  image|image-ubuntu)
    check_python
    tool git git
    tool packer packer
    tool ssh-keygen openssh-client
    tool qemu-system-x86_64 qemu-system-x86
    tool qemu-img qemu-utils
    if [ "$target" = image ]; then  # the Debian 12 base disk (packer/scripts/make-debian-base.sh)
      tool debootstrap debootstrap
      tool sfdisk fdisk
      tool mkfs.ext4 e2fsprogs
      tool losetup mount
      [ "$(id -u)" = 0 ] || root_needed="the Debian base disk (debootstrap, loop devices, chroot) is made as root: run make image as root"
      disk "${VAULTCUBE_CACHE:-$HOME/.cache/vaultcube}" 20 "the base disk (8 GiB raw while it is made) and the layer snapshots (about 2-3 GiB per role step)"
    else
      disk "${VAULTCUBE_CACHE:-$HOME/.cache/vaultcube}" 20 "the Ubuntu ISO in Packer's cache and the layer snapshots (about 2-3 GiB per role step)"
    fi
    disk "${IMAGE_STORE:-$ROOT/packer/output}" 15 "the build (8 GiB guest disk) and the stored image (~2 GiB each, 3 kept)" ;;
  apt-cache)
    check_python
    tool apt-get apt
    if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
      root_needed="apt-cacher-ng is installed with become: run make apt-cache as root or with passwordless sudo"
    fi
    disk /var/cache 2 "the apt cache (a layer-1 build fills about 250 MB)" ;;
  *) echo "preflight: unknown target '$target' (demo, test, test-heavy, image, image-ubuntu, apt-cache)." >&2; exit 2 ;;
esac
[ -n "$root_needed" ] && missing+=("root privileges") && notes+=("$root_needed")

join() {  # join ITEM...: "a, b and c"
  local n=$#
  if [ "$n" -le 1 ]; then echo "${1:-}"; return; fi
  local out="" i=0 x
  for x in "$@"; do
    i=$((i + 1))
    if [ "$i" = 1 ]; then out=$x; elif [ "$i" = "$n" ]; then out="$out and $x"; else out="$out, $x"; fi
  done
  echo "$out"
}

if [ ${#missing[@]} = 0 ]; then
  echo "preflight ($target): everything it needs is here."
  exit 0
fi

# pkgs: unique, in order
declare -a upkgs=()
for p in "${pkgs[@]}"; do [[ " ${upkgs[*]} " == *" $p "* ]] || upkgs+=("$p"); done
SUDO=""
can_root=1
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo"; else can_root=0; fi
fi

provide() {
  if [ ${#upkgs[@]} -gt 0 ]; then
    echo "preflight ($target): installing ${upkgs[*]} with apt-get"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${upkgs[@]}"; } \
      > /tmp/preflight-apt.log 2>&1 || { tail -20 /tmp/preflight-apt.log; return 1; }
  fi
  if [ "$start_docker" = 1 ] && ! docker info >/dev/null 2>&1; then
    if [ -d /run/systemd/system ] && have systemctl; then
      echo "preflight ($target): starting the Docker daemon (systemctl start docker)"
      $SUDO systemctl start docker
    else
      echo "preflight ($target): starting the Docker daemon (dockerd, log in /tmp/dockerd.log)"
      $SUDO sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &'
    fi
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "preflight ($target): dockerd did not start:"; tail -20 /tmp/dockerd.log 2>/dev/null; return 1; }
  fi
  if [ "$build_images" = 1 ]; then
    echo "preflight ($target): making the molecule base images (debootstrap, about 45 s each)"
    $SUDO molecule/shared/build-image.sh bookworm && $SUDO molecule/shared/build-image.sh trixie || return 1
  fi
}

actionable=0
[ ${#upkgs[@]} -gt 0 ] || [ "$start_docker" = 1 ] || [ "$build_images" = 1 ] && actionable=1
if [ "$actionable" = 1 ] && [ "$can_root" = 1 ] && [ "$install" != no ]; then
  provide || { echo "preflight ($target): providing $(join "${missing[@]}") failed (above)." >&2; exit 1; }
  VAULTCUBE_PREFLIGHT_INSTALL=0 exec "$0" "$target"   # check again: what is left (if anything) is said
fi
if [ "$install" = yes ] && [ "$can_root" = 0 ]; then
  echo "preflight ($target): --install needs root or passwordless sudo: run 'sudo $0 --install $target'." >&2
  exit 1
fi

what=$(join "${missing[@]}")
how=()
if [ "$actionable" = 1 ]; then
  add=""
  [ ${#upkgs[@]} -gt 0 ] && add="apt-get install ${upkgs[*]}"
  [ "$start_docker" = 1 ] && add="${add:+$add, }start dockerd"
  [ "$build_images" = 1 ] && add="${add:+$add, }make the molecule images"
  how+=("'sudo scripts/preflight.sh --install $target' provides them ($add)")
fi
how+=("${notes[@]}")
echo "make $target cannot start: this machine lacks $what; $(join "${how[@]}")." >&2
exit 1
