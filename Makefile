# vaultcube.demobox - developer entry points. Quick start: `make demo`, `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/build/collections
# A source copy at ansible_collections/vaultcube/demobox, as ansible-test and the unit tests need.
SRC := $(CURDIR)/build/src/ansible_collections/vaultcube/demobox
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := build/vaultcube-demobox-$(VERSION).tar.gz

.PHONY: help venv collection src demo test lint sanity unit integration molecule test-heavy packer-validate image image-ubuntu images apt-cache clean

help:
	@echo "make demo   - set up, then validate this machine and write its report under ./reports/"
	@echo "make test   - set up, then run every test that fits CI (lint, sanity, unit, integration, molecule)"
	@echo "make test-heavy - the long molecule scenarios listed in README"
	@echo "make image  - the golden image from a Debian 12 base disk (QEMU TCG, slow: docs/build-pipeline.md)"
	@echo "make apt-cache - apt-cacher-ng on this host for image builds (then APT_PROXY=http://10.0.2.2:3142 make image)"
	@echo "make image-ubuntu - the golden image from the Ubuntu 24.04 ISO (autoinstall; needs ADMIN_KEYS)"

venv:
	@scripts/bootstrap.sh

collection: venv
	@rm -rf build/collections/ansible_collections/vaultcube
	@mkdir -p build
	@$(BIN)/ansible-galaxy collection build --force --output-path build . >/dev/null
	@$(BIN)/ansible-galaxy collection install --force -p build/collections $(TARBALL) >/dev/null
	@echo "collection: installed $(TARBALL) into build/collections"

src:
	@rm -rf $(SRC) && mkdir -p $(SRC)
	@git ls-files -co --exclude-standard -z | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf - | tar -xf - -C $(SRC)

demo: collection
	@time $(BIN)/ansible-playbook vaultcube.demobox.validate -i inventory/localhost.yml

test: venv
	@scripts/test.sh all

lint sanity unit integration molecule: venv
	@scripts/test.sh $@

test-heavy: venv
	@scripts/test.sh molecule-heavy

packer-validate: venv
	@scripts/test.sh packer

# The golden image (not part of `make test`): build, second-boot check, store (docs/build-pipeline.md).
image: venv
	@packer/build.sh

image-ubuntu: venv
	@IMAGE_SOURCE=ubuntu packer/build.sh

apt-cache: collection
	@$(BIN)/ansible-playbook vaultcube.demobox.apt_cache -i inventory/localhost.yml

images:
	@python3 packer/scripts/pipeline.py images list --store $${IMAGE_STORE:-packer/output/images}

clean:
	rm -rf build reports .pytest_cache .coverage coverage.xml
