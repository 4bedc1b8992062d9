#!/usr/bin/env bash
# ddp_benchmark across two real hosts through a c10d rendezvous: two Debian containers on one
# docker network (community.docker's docker connection), the stand-in AI venv mounted read-only,
# gloo on their CPUs, `vaultcube.demobox.validate -f 2` (both nodes at once).
#  1. a whole run: both nodes report the job's throughput at world size 2 (one rank per node)
#     and the fleet report has both;
#  2. node1's container is killed mid-run: node0 ends with one sentence naming the lost node,
#     node1 is unreachable in the play and in the fleet report, and no worker is left running on
#     node0 (a dead child shows as a zombie there only because `sleep` is the container's PID 1).
set -eux
ai=$(python -c 'import yaml,sys; print(yaml.safe_load(open("../../integration_config.yml"))["vaultcube_ai_python"])')
ai_prefix=$("$ai" -c 'import sys; print(sys.base_prefix)')
ai_venv=$(dirname "$(dirname "$ai")")
net=vaultcube-mn-net
out=$(mktemp -d)
nodes=(node0 node1)
remove() { for n in "${nodes[@]}"; do docker rm -f "vaultcube-mn-$n" >/dev/null 2>&1 || true; done; docker network rm "$net" >/dev/null 2>&1 || true; }
cleanup() {
  if [ -n "${play:-}" ]; then kill "$play" 2>/dev/null || true; fi  # the background play, by its id
  remove
  if [ -n "${MULTINODE_KEEP:-}" ]; then mkdir -p "$MULTINODE_KEEP" && cp -r "$out"/. "$MULTINODE_KEEP"/; fi
  rm -rf "$out"
}
trap cleanup EXIT
start_nodes() {
  remove
  docker network create "$net" >/dev/null
  for n in "${nodes[@]}"; do
    docker run -d --name "vaultcube-mn-$n" --hostname "$n" --network "$net" \
      -v "$ai_prefix:$ai_prefix:ro" -v "$ai_venv:$ai_venv:ro" local/debian12-systemd sleep infinity >/dev/null
  done
}
inv="$out/hosts.yml"
cat > "$inv" <<INV
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
    validation_expected_gpu_count: null
    validation_min_driver_version: null
    validation_checks: [ddp_benchmark]
    validation_worker_python: "$ai"
    validation_ddp_device: cpu
    validation_ddp_model: small_cnn
    validation_ddp_image_size: 32
    validation_ddp_num_classes: 10
    validation_ddp_batch_size: 16
    validation_ddp_precision: fp32
    validation_ddp_warmup: 3
    validation_ddp_world_sizes: [1, 2]
    validation_ddp_timeout: 300
    validation_min_scaling_efficiency: null
    validation_ddp_nnodes: 2
    validation_ddp_rdzv_endpoint: "vaultcube-mn-node0:29400"
    validation_progress_interval: 5
  hosts:
    node0: {ansible_host: vaultcube-mn-node0}
    node1: {ansible_host: vaultcube-mn-node1}
INV

# 1. the whole 2-node run
start_nodes
VAULTCUBE_REPORT_DIR="$out/whole" ansible-playbook -f 2 -i "$inv" vaultcube.demobox.validate -e validation_ddp_steps=30 > "$out/whole.log" 2>&1 \
  || { cat "$out/whole.log"; exit 1; }
python - "$out/whole" <<'PY'
import json, sys
root = sys.argv[1]
for node in ("node0", "node1"):
    report = json.load(open("%s/%s/validation-report.json" % (root, node)))
    ddp = report["modules"]["ddp_benchmark"]
    throughput = [c for c in report["checks"] if c["name"] == "ddp_benchmark.throughput"][0]
    assert throughput["value"] > 0 and ddp["metrics"]["world_sizes"] == [1, 2], ddp["metrics"]["world_sizes"]
    assert sorted(ddp["environment"]["hosts"]) == ["node0", "node1"], ddp["environment"]["hosts"]
    print("%s: %s; samples/s by world size %s" % (node, throughput["message"], ddp["metrics"]["samples_per_second"]))
fleet = json.load(open("%s/fleet/fleet-report.json" % root))
assert [h["status"] for h in fleet["hosts"]] == ["ok", "ok"], fleet["hosts"]
PY

# 2. node1 dies mid-run
start_nodes
set +e
PYTHONUNBUFFERED=1 VAULTCUBE_REPORT_DIR="$out/dead" ansible-playbook -f 2 -i "$inv" vaultcube.demobox.validate -e '{"validation_ddp_steps": 5000, "validation_ddp_world_sizes": [2]}' > "$out/dead.log" 2>&1 &
play=$!
set -e
for _ in $(seq 1 120); do grep -q "world size 2: warm-up done" "$out/dead.log" && break; sleep 2; done
grep -q "world size 2: warm-up done" "$out/dead.log"
docker kill vaultcube-mn-node1 >/dev/null
set +e; wait "$play"; rc=$?; set -e
play=
cat "$out/dead.log"
[ "$rc" = 4 ]
grep -q "Validation of node0 failed: The DDP benchmark lost another node of its 2-node job mid-run: rank 0 on node0 saw" "$out/dead.log"
grep -q "fatal: \[node1\]: UNREACHABLE!" "$out/dead.log"
python - "$out/dead/fleet/fleet-report.json" <<'PY'
import json, sys
fleet = json.load(open(sys.argv[1]))
rows = dict((h["host"], h) for h in fleet["hosts"])
assert rows["node0"]["status"] == "failed" and "lost another node" in rows["node0"]["message"], rows["node0"]
assert rows["node1"]["status"] == "unreachable", rows["node1"]
print(rows["node0"]["message"])
print(rows["node1"]["message"])
PY
# nothing of the benchmark still runs on node0 (state Z: reaped by nobody, not running)
! docker exec vaultcube-mn-node0 ps -eo stat=,args= | grep -v '^Z' | grep -E 'ddp_worker|torch.distributed.run'
echo "ddp_multinode: all good"
