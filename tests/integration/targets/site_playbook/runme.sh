#!/usr/bin/env bash
# playbooks/site.yml: layers 1-4 in order, a tag per layer and per role, and the tasks of the
# layer 2-3 roles selected by their tags (they import their task files statically, so --tags
# layer2 reaches every task, not only the includes).
set -eux
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ansible-playbook vaultcube.demobox.site -i localhost, --syntax-check
ansible-playbook vaultcube.demobox.site -i localhost, --list-tags > "$out/tags"
for tag in layer1 layer2 layer3 layer4 base security hardening docker nvidia_driver cuda nvidia_container_toolkit ai_frameworks monitoring; do
  grep -q "\b$tag\b" "$out/tags"
done
ansible-playbook vaultcube.demobox.site -i localhost, --list-tasks > "$out/all"
# the input check first (tag always), then the layers in order
grep "play #" "$out/all" | sed -E 's/.*play #[0-9]+ \([^)]*\): ([A-Za-z]+ [0-9a-z]+).*/\1/' | tr '\n' ',' \
  | grep -q '^Check the,Layer 1,Layer 2,Layer 3,Layer 4,$'
grep -q "TAGS: \[always\]" "$out/all"

# A wrong value for a later role is refused in the first play, before any role runs: one
# sentence, changed=0 (this host is only read: stat, getent).
if ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default ansible-playbook vaultcube.demobox.site -i localhost, -c local \
    --tags layer1 -e '{"docker_daemon_options_extra": {"log-levle": "debug"}, "security_ufw_allowed_ports": ["22", "70000"]}' \
    > "$out/refused" 2>&1; then
  echo "site.yml accepted a bad input"; cat "$out/refused"; exit 1
fi
grep -q "docker_daemon_options_extra has the option 'log-levle' (did you mean 'log-level'?)" "$out/refused"
grep -q "security_ufw_allowed_ports entry '70000' is outside the ports 1-65535." "$out/refused"
grep -Eq "localhost +: ok=0 +changed=0 +unreachable=0 +failed=1" "$out/refused"
! grep -q "Run the base role" "$out/refused"

ansible-playbook vaultcube.demobox.site -i localhost, --list-tasks --tags layer2 > "$out/layer2"
grep -q "Check the inputs of the roles the selected layers and tags will run" "$out/layer2"
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
