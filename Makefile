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

.PHONY: help venv collection src demo test lint sanity unit integration molecule test-heavy clean

help:
	@echo "make demo   - set up, then validate this machine and write its report under ./reports/"
	@echo "make test   - set up, then run every test that fits CI (lint, sanity, unit, integration, molecule)"
	@echo "make test-heavy - the long molecule scenarios listed in README"

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

clean:
	rm -rf build reports .pytest_cache .coverage coverage.xml
