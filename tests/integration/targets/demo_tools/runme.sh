#!/usr/bin/env bash
# The demo_tools role against this host, installing into a temporary prefix: check mode on a
# fresh prefix, converge, converge again with nothing changed, then the installed demobox-chat run
# for real against the local OpenAI-compatible test server (streams an answer, prints tokens/s)
# and against a port nothing listens on (one sentence, exit status 2).
set -eux
dir=$(mktemp -d)
srv=""
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$dir"' EXIT
mkdir -p "$dir/bin"
py=$(command -v python)
cat > "$dir/inventory.yml" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$py"
INV
cat > "$dir/vars.yml" <<VARS
demo_tools_bin_dir: $dir/bin
demo_tools_config_dir: $dir/etc
demo_tools_lib_dir: $dir/lib
demo_tools_python: $py
demo_tools_chat_max_tokens: 32
VARS
run() { ansible-playbook -i "$dir/inventory.yml" playbook.yml -e "@$dir/vars.yml" "$@"; }

run --check | tee "$dir/check.log"
grep -qE "localhost +: ok=[0-9]+ +changed=[1-9]" "$dir/check.log"
[ ! -e "$dir/bin/demobox-chat" ]                       # check mode changed nothing
run | tee "$dir/first.log"
grep -qE "localhost +: ok=6 +changed=5 " "$dir/first.log"
run | tee "$dir/second.log"
grep -qE "localhost +: ok=6 +changed=0 " "$dir/second.log"  # idempotent
[ "$(head -1 "$dir/bin/demobox-chat")" = "#!$py" ] && [ -x "$dir/bin/demobox-chat" ]
# the presets demobox-chat --offline converts: the collection's _llm_models.py, where its config says
grep -q "\"lib_dir\": \"$dir/lib\"" "$dir/etc/demobox-chat.json"
[ "$("$py" -c "import sys; sys.path.insert(0, '$dir/lib'); import _llm_models as m; print(m.preset_name('smollm2'))")" = smollm2-135m-instruct ]

python ../vllm_bench/files/fake_openai_server.py --port-file "$dir/port" --ttft 0.05 --itl 0.01 &
srv=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
out=$(DEMOBOX_CHAT_CONFIG="$dir/etc/demobox-chat.json" "$dir/bin/demobox-chat" --endpoint "http://127.0.0.1:$(cat "$dir/port")/v1" \
      "The capital of France is")
echo "$out"
echo "$out" | grep -q "Paris"
echo "$out" | tail -1 | grep -qE '^\[8 tokens in [0-9.]+ s: [0-9.]+ tokens/s, first token after [0-9]+ ms\]$'

set +e
err=$(DEMOBOX_CHAT_CONFIG="$dir/etc/demobox-chat.json" DEMOBOX_CHAT_ENDPOINT=http://127.0.0.1:9/v1 "$dir/bin/demobox-chat" hi 2>&1)
rc=$?
set -e
[ "$rc" = 2 ]
[ "$err" = "demobox-chat: Nothing answers at http://127.0.0.1:9/v1 (connection refused): start the model server (for example \`vllm serve MODEL\`) or give --endpoint, or use --offline MODEL." ]
ansible-playbook -i "$dir/inventory.yml" config.yml -e "config_path=$dir/etc/demobox-chat.json" -e "lib_dir=$dir/lib"
echo "demo_tools: all good"
