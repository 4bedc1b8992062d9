#!/usr/bin/env bash
# vllm_bench end to end through ansible-playbook, on a machine without GPU or vLLM:
# serve mode against a real local server process (files/fake_openai_server.py, real sockets,
# known delays), and the offline mode's one-sentence errors (missing model, no vLLM, no GPU),
# check mode, and the validation role's check_vllm_bench.yml task file.
set -eux
dir=$(mktemp -d)
python files/fake_openai_server.py --port-file "$dir/port" --ttft 0.05 --itl 0.005 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
port=$(cat "$dir/port")
cat > "$dir/inventory.yml" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
INV
ansible-playbook -i "$dir/inventory.yml" playbook.yml \
  -e "endpoint=http://127.0.0.1:$port/v1" -e "work_dir=$dir" "$@"
