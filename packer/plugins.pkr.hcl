# Plugins for Packer 1.7 and later, where the QEMU builder and the Ansible provisioner are no
# longer built in:   packer init packer/plugins.pkr.hcl
# Kept out of demobox.pkr.hcl on purpose: Packer 1.6 (Debian 12's packer package) does not know
# `required_plugins` and would refuse the whole template; it has both plugins built in.
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    qemu = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/qemu"
    }
    ansible = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/ansible"
    }
  }
}
