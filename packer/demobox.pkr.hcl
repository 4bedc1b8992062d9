# The VaultCube demo box golden image: vault-cube-demo-box-vMAJOR.MINOR.PATCH.qcow2 and its
# image-manifest.json. packer/build.sh (`make image`, `make image-ubuntu`) prepares the inputs and
# runs this; see docs/build-pipeline.md.
#
# A build is a chain of Packer runs, each booting the disk the previous one left (build.sh runs
# them, keeps each disk as a layer snapshot and starts a rebuild from the deepest one that still
# matches: docs/build-pipeline.md):
#   qemu.ubuntu  the Ubuntu 24.04 live-server ISO, autoinstall from http/user-data (the product's
#                first disk; the Debian path starts from scripts/make-debian-base.sh's disk instead)
#   qemu.layer   one role of vaultcube.demobox.site (base, security, hardening, docker, then the
#                later layers' roles), with the build-only dpkg/apt settings on; each run is a boot,
#                so the reboot after the driver layer needs no step of its own
#   qemu.seal    sshd back on the role's defaults, the build key and build settings gone, the
#                machine's own facts, a new identity on first boot, compaction, the manifest
#
# Valid with Packer 1.6.6 (Debian 12) and later: no locals that use locals, no templatefile or
# http_content, no required_plugins here (see plugins.pkr.hcl).

variable "version" {
  type        = string
  default     = "0.1.0"
  description = "Image version, MAJOR.MINOR.PATCH: vault-cube-demo-box-v<version>.qcow2."
  validation {
    condition     = var.version != "" && regex_replace(var.version, "^[0-9]+[.][0-9]+[.][0-9]+$", "") == ""
    error_message = "The version must be MAJOR.MINOR.PATCH, for example 0.1.0."
  }
}

variable "layer_tags" {
  type        = list(string)
  default     = ["layer1"]
  description = "Layers of vaultcube.demobox.site to build, from layer1 up to the last one (the build stops after it)."
  validation {
    condition     = length(var.layer_tags) >= 1 && length(var.layer_tags) <= 4 && join(",", var.layer_tags) == join(",", slice(["layer1", "layer2", "layer3", "layer4"], 0, length(var.layer_tags)))
    error_message = "The layer_tags must run from layer1 to the last layer to build, in order: [\"layer1\"], [\"layer1\", \"layer2\"], up to all four."
  }
}

variable "parent_image" {
  type        = string
  default     = ""
  description = "qemu.layer and qemu.seal: the disk this run boots (the base disk, the Ubuntu install or the previous step's snapshot); copied, never changed."
}

variable "step_role" {
  type        = string
  default     = "base"
  description = "qemu.layer: the role of vaultcube.demobox.site this step runs (its tag)."
}

variable "step_tags" {
  type        = string
  default     = "layer1"
  description = "qemu.layer: the step's --tags (its layer's tag: the play's fact gathering carries it)."
}

variable "step_skip_tags" {
  type        = string
  default     = "none"
  description = "qemu.layer: the step's --skip-tags (the other roles of its layer)."
}

variable "step_layers" {
  type        = list(number)
  default     = [1]
  description = "qemu.layer: vaultcube_site_layers for the step's pass (its layer)."
}

variable "collections_dir" {
  type        = string
  description = "Where build.sh installed the collection tarball built in this run (its ansible_collections/ parent)."
}

variable "work_dir" {
  type        = string
  description = "This build's working directory (collection.json, image-facts.json, logs); build.sh makes it."
}

variable "output_directory" {
  type        = string
  description = "Where Packer writes the image; must not exist yet."
}

variable "admin_user" {
  type        = string
  default     = "vaultadmin"
  description = "The admin user the installer creates and Packer connects as (the base role's base_admin_user)."
}

variable "admin_authorized_keys" {
  type        = list(string)
  description = "OpenSSH public key lines the admin keeps in the image; the build key is removed before shutdown."
  validation {
    condition     = length(var.admin_authorized_keys) > 0
    error_message = "The admin_authorized_keys must hold at least one public key: the image refuses passwords and the build key is removed before it ships."
  }
}

variable "build_private_key" {
  type        = string
  description = "Private key of this build (its public key carries the comment vaultcube-build-key)."
}

variable "build_ssh_kex_algorithms" {
  type        = list(string)
  default     = ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org"]
  description = "sshd key exchanges while building: the security role's post-quantum set plus curve25519, which Packer's own SSH client needs to reconnect after a reboot. The sealing pass puts the role's defaults back."
}

variable "site_vars_file" {
  type        = string
  default     = ""
  description = "A YAML file of variables for vaultcube.demobox.site (e.g. nvidia_driver_force: true for a GPU-less VM); empty for none."
}

variable "ansible_extra_arguments" {
  type        = list(string)
  default     = []
  description = "More ansible-playbook arguments for every site pass, e.g. [\"--skip-tags\", \"fail2ban\"] or [\"-v\"]."
}

variable "apt_proxy" {
  type        = string
  default     = ""
  description = "An apt proxy for the build only (an apt-cacher-ng on the build host), e.g. http://10.0.2.2:3142; removed before shutdown."
}

variable "wheelhouse_url" {
  type        = string
  default     = ""
  description = "A wheelhouse URL for layer 4 (ai_frameworks_source: wheelhouse); empty: the role's own source. Files in http_directory are served at http://{{ packer_http_addr }}/."
}

variable "http_directory" {
  type        = string
  description = "Served to the guest over Packer's HTTP server: user-data and meta-data (rendered by build.sh), optionally a wheelhouse."
}

variable "iso_url" {
  type        = string
  default     = "https://releases.ubuntu.com/24.04/ubuntu-24.04.3-live-server-amd64.iso"
  description = "Ubuntu 24.04 live-server ISO (qemu.ubuntu). A point release moves to old-releases.ubuntu.com when the next one ships."
}

variable "iso_checksum" {
  type        = string
  default     = "file:https://releases.ubuntu.com/24.04/SHA256SUMS"
  description = "Its checksum: sha256:<hex>, or file:<url of a SHA256SUMS>. Packer keeps the verified ISO in PACKER_CACHE_DIR."
}

variable "disk_size" {
  type        = string
  default     = "64G"
  description = "Disk size of the ISO install (qemu.ubuntu); the Debian base keeps the size it was made with."
}

variable "accelerator" {
  type        = string
  default     = "kvm"
  description = "QEMU accelerator: kvm (Linux), hvf (macOS), tcg (pure emulation: slow, works everywhere)."
  validation {
    condition     = contains(["kvm", "tcg", "hvf"], var.accelerator)
    error_message = "The accelerator must be kvm, tcg or hvf."
  }
}

variable "cpus" {
  type    = number
  default = 2
}

variable "memory" {
  type        = number
  default     = 4096
  description = "Guest memory in MiB."
}

variable "disk_compression" {
  type        = bool
  default     = false
  description = "Compress the qcow2 (smaller to ship, slower to write; see docs/build-pipeline.md)."
}

variable "serial_log" {
  type        = string
  default     = ""
  description = "A file that receives the guest's serial console (boot messages); empty for none."
}

variable "headless" {
  type    = bool
  default = true
}

locals {
  image_name = "vault-cube-demo-box-v${var.version}.qcow2"
  # Every site pass: the admin user with its keys plus the build key, the build's sshd key exchanges.
  site_vars = jsonencode({
    base_admin_user             = var.admin_user
    base_admin_authorized_keys  = concat(var.admin_authorized_keys, [trimspace(file("${var.build_private_key}.pub"))])
    security_ssh_kex_algorithms = var.build_ssh_kex_algorithms
  })
  step_vars = jsonencode({ vaultcube_site_layers = var.step_layers })
  # The sealing pass: the security role's own sshd settings, and the admin's keys only.
  seal_vars = jsonencode({
    base_admin_user            = var.admin_user
    base_admin_authorized_keys = var.admin_authorized_keys
  })
  user_args  = concat(var.site_vars_file == "" ? [] : ["-e", "@${var.site_vars_file}"], var.ansible_extra_arguments)
  wheel_args = var.wheelhouse_url == "" ? [] : ["-e", jsonencode({ ai_frameworks_source = "wheelhouse", ai_frameworks_wheelhouse = var.wheelhouse_url })]
  # Facts are gathered once per pass (smart gathering, a jsonfile cache) and kept for that run
  # only: each step is a new boot, so facts of an earlier one could be stale (build.sh empties the
  # folder before each run).
  ansible_env = [
    "ANSIBLE_CONFIG=${path.root}/ansible/ansible.cfg",
    "ANSIBLE_COLLECTIONS_PATH=${var.collections_dir}",
    "ANSIBLE_NOCOLOR=1",
    "ANSIBLE_GATHERING=smart",
    "ANSIBLE_CACHE_PLUGIN=jsonfile",
    "ANSIBLE_CACHE_PLUGIN_CONNECTION=${var.work_dir}/facts-${var.step_role}",
  ]
  # Each run gets its own ssh ControlPath directory: a master connection left from an earlier
  # boot must not be reused.
  cp_dir        = "/tmp/vaultcube-cp-${substr(uuidv4(), 0, 8)}"
  site_playbook = "${var.collections_dir}/ansible_collections/vaultcube/demobox/playbooks/site.yml"
  qemuargs      = var.serial_log == "" ? [] : [["-serial", "file:${var.serial_log}"]]
}

source "qemu" "ubuntu" {
  iso_url          = var.iso_url
  iso_checksum     = var.iso_checksum
  http_directory   = var.http_directory
  output_directory = var.output_directory
  vm_name          = local.image_name
  format           = "qcow2"
  disk_size        = var.disk_size
  disk_interface   = "virtio"
  disk_discard     = "unmap"
  disk_compression = var.disk_compression
  net_device       = "virtio-net"
  accelerator      = var.accelerator
  cpus             = var.cpus
  memory           = var.memory
  headless         = var.headless
  qemuargs         = local.qemuargs
  # GRUB of the live-server ISO (BIOS): a command line that boots the installer into autoinstall
  # with its NoCloud seed (user-data, meta-data) from Packer's HTTP server.
  boot_wait = "5s"
  boot_command = [
    "c<wait>",
    "linux /casper/vmlinuz --- autoinstall ds='nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/'<enter><wait>",
    "initrd /casper/initrd<enter><wait>",
    "boot<enter>",
  ]
  communicator         = "ssh"
  ssh_username         = var.admin_user
  ssh_private_key_file = var.build_private_key
  # The installer's own sshd answers first and refuses the key: keep trying until the installed
  # system has rebooted and cloud-init has created the admin user.
  ssh_timeout            = "90m"
  ssh_handshake_attempts = 1000
  shutdown_command       = "sudo systemctl poweroff"
  shutdown_timeout       = "15m"
}

# One step, or the seal: boots a copy of parent_image (the cache keeps the parent unchanged).
source "qemu" "layer" {
  iso_url          = var.parent_image
  iso_checksum     = "none"
  disk_image       = true
  use_backing_file = false
  skip_resize_disk = true
  # The step's disk is the next step's parent, not a shipped image: no conversion pass.
  skip_compaction      = true
  http_directory       = var.http_directory
  output_directory     = var.output_directory
  vm_name              = "${var.step_role}.qcow2"
  format               = "qcow2"
  disk_interface       = "virtio"
  disk_discard         = "unmap"
  net_device           = "virtio-net"
  accelerator          = var.accelerator
  cpus                 = var.cpus
  memory               = var.memory
  headless             = var.headless
  qemuargs             = local.qemuargs
  boot_wait            = "1s"
  communicator         = "ssh"
  ssh_username         = var.admin_user
  ssh_private_key_file = var.build_private_key
  ssh_timeout          = "30m"
  shutdown_command     = "sudo systemctl poweroff"
  shutdown_timeout     = "15m"
}

source "qemu" "seal" {
  iso_url              = var.parent_image
  iso_checksum         = "none"
  disk_image           = true
  use_backing_file     = false
  skip_resize_disk     = true
  http_directory       = var.http_directory
  output_directory     = var.output_directory
  vm_name              = local.image_name
  format               = "qcow2"
  disk_interface       = "virtio"
  disk_discard         = "unmap"
  disk_compression     = var.disk_compression
  net_device           = "virtio-net"
  accelerator          = var.accelerator
  cpus                 = var.cpus
  memory               = var.memory
  headless             = var.headless
  qemuargs             = local.qemuargs
  boot_wait            = "1s"
  communicator         = "ssh"
  ssh_username         = var.admin_user
  ssh_private_key_file = var.build_private_key
  ssh_timeout          = "30m"
  shutdown_command     = "sudo systemctl poweroff"
  shutdown_timeout     = "15m"
}

# The Ubuntu install: the ISO's autoinstall, settled; its disk is the first step's parent.
build {
  sources = ["source.qemu.ubuntu"]

  provisioner "shell" {
    environment_vars = ["APT_PROXY="]
    execute_command  = "sudo env {{ .Vars }} sh -eu '{{ .Path }}'"
    script           = "${path.root}/scripts/prepare.sh"
  }
}

# One role of vaultcube.demobox.site on the previous step's disk.
build {
  sources = ["source.qemu.layer"]

  # Wait for the boot to settle; set (or clear) the build's apt proxy.
  provisioner "shell" {
    environment_vars = ["APT_PROXY=${var.apt_proxy}"]
    execute_command  = "sudo env {{ .Vars }} sh -eu '{{ .Path }}'"
    script           = "${path.root}/scripts/prepare.sh"
  }

  # The build-only dpkg/apt settings (undone by the seal).
  provisioner "shell" {
    environment_vars = ["BUILD_MODE=on"]
    execute_command  = "sudo env {{ .Vars }} sh -eu '{{ .Path }}'"
    script           = "${path.root}/scripts/build-mode.sh"
  }

  provisioner "ansible" {
    playbook_file    = local.site_playbook
    use_proxy        = false
    ansible_env_vars = concat(local.ansible_env, ["ANSIBLE_SSH_CONTROL_PATH_DIR=${local.cp_dir}"])
    extra_arguments  = concat(["--tags", var.step_tags, "--skip-tags", var.step_skip_tags, "-e", local.site_vars, "-e", local.step_vars], local.wheel_args, local.user_args)
  }
}

# The seal, on the last step's disk.
build {
  sources = ["source.qemu.seal"]

  provisioner "shell" {
    environment_vars = ["APT_PROXY=${var.apt_proxy}"]
    execute_command  = "sudo env {{ .Vars }} sh -eu '{{ .Path }}'"
    script           = "${path.root}/scripts/prepare.sh"
  }

  # Seal, 1: sshd with the security role's own settings (post-quantum key exchanges only).
  provisioner "ansible" {
    playbook_file    = "${path.root}/ansible/seal.yml"
    use_proxy        = false
    ansible_env_vars = concat(local.ansible_env, ["ANSIBLE_SSH_CONTROL_PATH_DIR=${local.cp_dir}"])
    extra_arguments  = concat(["-e", local.seal_vars], local.user_args)
  }

  # Seal, 2: the build-only dpkg/apt settings go (the deferred man-db/initramfs work done once).
  provisioner "shell" {
    environment_vars = ["BUILD_MODE=off"]
    execute_command  = "sudo env {{ .Vars }} sh -eu '{{ .Path }}'"
    script           = "${path.root}/scripts/build-mode.sh"
  }

  # Seal, 3: the build key and the build's apt proxy go.
  provisioner "shell" {
    environment_vars = ["ADMIN_USER=${var.admin_user}", "SEAL_PHASE=keys"]
    execute_command  = "sudo env {{ .Vars }} sh -eu '{{ .Path }}'"
    script           = "${path.root}/scripts/seal.sh"
  }

  # The machine's own facts, as it will ship: versions as installed, null where a layer was not built.
  provisioner "file" {
    source      = "${path.root}/scripts/image_facts.py"
    destination = "/tmp/image_facts.py"
  }

  provisioner "shell" {
    inline = [
      "echo 'vaultcube-stage: image facts'",
      "sudo python3 /tmp/image_facts.py --admin-user '${var.admin_user}' > /tmp/image-facts.json",
    ]
  }

  provisioner "file" {
    direction   = "download"
    source      = "/tmp/image-facts.json"
    destination = "${var.work_dir}/image-facts.json"
  }

  # Seal, 4: SSH host keys and machine-id (new on each box's first boot), logs, free blocks.
  provisioner "shell" {
    environment_vars = ["ADMIN_USER=${var.admin_user}", "SEAL_PHASE=identity"]
    execute_command  = "sudo env {{ .Vars }} sh -eu '{{ .Path }}'"
    script           = "${path.root}/scripts/seal.sh"
  }

  post-processor "shell-local" {
    inline = [
      "python3 '${path.root}/scripts/pipeline.py' manifest --image '${var.output_directory}/${local.image_name}' --version '${var.version}' --facts '${var.work_dir}/image-facts.json' --collection '${var.work_dir}/collection.json' --build-info '${var.work_dir}/build-info.json' --layers '${join(",", var.layer_tags)}' --out '${var.output_directory}/image-manifest.json'",
    ]
  }
}
