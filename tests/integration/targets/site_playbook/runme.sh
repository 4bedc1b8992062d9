#!/usr/bin/env bash
# playbooks/site.yml: layers 1-4 in order, a tag per layer and per role, and the tasks of the
# layer 2-3 roles selected by their tags (they import their task files statically, so --tags
# layer2 reaches every task, not only the includes).
set -eux
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ansible-playbook vaultcube.demobox.site -i localhost, --syntax-check
ansible-playbook vaultcube.demobox.site -i localhost, --list-tags > "$out/tags"
for tag in layer1 layer2 layer3 layer4 base security docker nvidia_driver cuda nvidia_container_toolkit ai_frameworks monitoring; do
  grep -q "\b$tag\b" "$out/tags"
done
ansible-playbook vaultcube.demobox.site -i localhost, --list-tasks > "$out/all"
# the plays come in layer order
grep -n "play #" "$out/all" | awk -F'play #' '{print $2}' | cut -c1-1 | tr -d '\n' | grep -q '^1234$'

ansible-playbook vaultcube.demobox.site -i localhost, --list-tasks --tags layer2 > "$out/layer2"
grep -q "nvidia_driver : Refuse a plan that cannot drive this host's GPUs" "$out/layer2"
grep -q "nvidia_driver : Install the NVIDIA driver packages with apt" "$out/layer2"
grep -q "nvidia_driver : Reboot now if the driver changed" "$out/layer2"
grep -q "cuda : Compile and run a device query" "$out/layer2"
! grep -q "nvidia_container_toolkit :" "$out/layer2"
! grep -q "Run the base role" "$out/layer2"

ansible-playbook vaultcube.demobox.site -i localhost, --list-tasks --tags nvidia_container_toolkit > "$out/nct"
grep -q "nvidia_container_toolkit : Run nvidia-smi in a GPU container" "$out/nct"
! grep -q "nvidia_driver : " "$out/nct"
echo "site playbook: all good"
