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

.PHONY: gpu-test help venv collection src demo test lint sanity unit integration browser release molecule test-heavy packer-validate image image-ubuntu images apt-cache clean

help:
	@echo "make demo   - set up, then validate this machine and write its report under ./reports/"
	@echo "make test   - check this machine has what the tests need (installs it as root), set up, then run"
	@echo "              every test that fits CI (lint, sanity, unit, integration, browser, packer, release, molecule)"
	@echo "make test-heavy - the long molecule scenarios listed in README"
	@echo "make image  - the golden image from a Debian 12 base disk (QEMU TCG: docs/build-pipeline.md); a rebuild"
	@echo "              starts from the deepest layer snapshot that still matches (IMAGE_CACHE=off: from scratch)"
	@echo "make apt-cache - apt-cacher-ng on this host for image builds (then APT_PROXY=http://10.0.2.2:3142 make image)"
	@echo "make image-ubuntu - the golden image from the Ubuntu 24.04 ISO (autoinstall; needs ADMIN_KEYS)"
	@echo "make gpu-test GPU_TESTS=\"foundation validate\" - the GPU tests (tests/gpu/, on a GPU machine: docs/gpu-runs.md)"

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

# Each user-facing target first checks, in seconds, what it needs from this machine
# (scripts/preflight.sh: as root it installs what is missing, else one sentence says what and how).
preflight-%:
	@scripts/preflight.sh $*

demo: preflight-demo collection
	@time $(BIN)/ansible-playbook vaultcube.demobox.validate -i inventory/localhost.yml

test: preflight-test venv
	@scripts/test.sh all

lint sanity unit integration browser release molecule: venv
	@scripts/test.sh $@

test-heavy: preflight-test-heavy venv
	@scripts/test.sh molecule-heavy

packer-validate: venv
	@scripts/test.sh packer

# The golden image (not part of `make test`): build, second-boot check, store (docs/build-pipeline.md).
image: preflight-image venv
	@packer/build.sh

image-ubuntu: preflight-image-ubuntu venv
	@IMAGE_SOURCE=ubuntu packer/build.sh

apt-cache: preflight-apt-cache collection
	@$(BIN)/ansible-playbook vaultcube.demobox.apt_cache -i inventory/localhost.yml

# The GPU tests (docs/gpu-runs.md), on a machine with NVIDIA GPUs and ansible-playbook on PATH:
# tests/gpu/<name>.yml for each name in GPU_TESTS, results and logs in GPU_OUT, the collection
# from GPU_COLLECTIONS (an installed vaultcube.demobox; default: the one `make collection` makes).
GPU_TESTS ?= foundation validate
GPU_OUT ?= $(CURDIR)/build/gpu-results
GPU_COLLECTIONS ?= $(CURDIR)/build/collections
gpu-test: export ANSIBLE_COLLECTIONS_PATH := $(GPU_COLLECTIONS)
gpu-test:
	@tests/gpu/run.sh $(GPU_OUT) $(GPU_TESTS)

images:
	@python3 packer/scripts/pipeline.py images list --store $${IMAGE_STORE:-packer/output/images}

clean:
	rm -rf build reports .pytest_cache .coverage coverage.xml
