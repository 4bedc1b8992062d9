#!/usr/bin/env bash
# ddp_benchmark for real, on this machine's CPU with gloo and a small model:
#  1. through `ansible-playbook vaultcube.demobox.validate` (validation_ddp_device: cpu), then the
#     report it wrote is read: structure, figures positive and consistent with each other (never
#     their speed);
#  2. the module's own error paths (module.yml): bad parameters, no torch, no GPU, check mode,
#     a run past its timeout and a run out of memory, each leaving no process behind.
# The torch interpreter is the stand-in AI venv (.venv-ai, CPU torch) that scripts/test.sh makes
# and names in tests/integration/integration_config.yml.
set -eux
config=../../integration_config.yml
ai_python=$(python -c 'import sys, yaml; print((yaml.safe_load(open(sys.argv[1])) or {}).get("vaultcube_ai_python") or "")' "$config" 2>/dev/null || true)
if [ -z "$ai_python" ] || [ ! -x "$ai_python" ]; then
  echo "No torch interpreter: run this target through 'make integration' (scripts/test.sh creates .venv-ai with scripts/ai-venv.sh)." >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inv="$out/inventory.yml"
cat > "$inv" <<INV
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: "$(command -v python)"
      validation_expected_gpu_count: null
      validation_min_driver_version: null
      validation_checks: [ddp_benchmark]
      validation_worker_python: "$ai_python"
      validation_ddp_device: cpu
      validation_ddp_model: small_cnn
      validation_ddp_image_size: 32
      validation_ddp_num_classes: 10
      validation_ddp_batch_size: 8
      validation_ddp_precision: fp32
      validation_ddp_steps: 12
      validation_ddp_warmup: 2
      validation_ddp_world_sizes: [1, 2]
      validation_ddp_timeout: 300
      validation_min_scaling_efficiency: null
INV

start=$(date +%s)
VAULTCUBE_REPORT_DIR="$out/reports" ansible-playbook vaultcube.demobox.validate -i "$inv" "$@"
echo "validate playbook with ddp_benchmark on the CPU: $(( $(date +%s) - start ))s"
python - "$out/reports/localhost" <<'PY'
import json, math, os, sys
d = sys.argv[1]
rep = json.load(open(os.path.join(d, "validation-report.json")))
assert rep["passed"] is True, rep["failures"]
mod = rep["modules"]["ddp_benchmark"]
checks = {c["name"]: c for c in rep["checks"] if c["module"] == "ddp_benchmark"}
assert sorted(checks) == ["ddp_benchmark.gpu_temperature", "ddp_benchmark.gpu_utilization",
                          "ddp_benchmark.scaling_efficiency", "ddp_benchmark.throughput"], sorted(checks)
assert checks["ddp_benchmark.throughput"]["status"] == "info" and checks["ddp_benchmark.throughput"]["value"] > 0
assert checks["ddp_benchmark.scaling_efficiency"]["status"] == "info"
for name in ("ddp_benchmark.gpu_utilization", "ddp_benchmark.gpu_temperature"):
    assert checks[name]["status"] == "skipped" and "CPU run" in checks[name]["message"], checks[name]

m = mod["metrics"]
batch, steps = 8, 12
runs = m["runs"]
assert [r["world_size"] for r in runs] == [1, 2] == m["world_sizes"], m["world_sizes"]
for r in runs:
    k = r["world_size"]
    assert r["samples_per_second"] > 0 and r["wall_s"] > 0, r
    # samples/s is k x batch x steps / wall time of the slowest rank
    assert math.isclose(r["samples_per_second"], k * batch * steps / r["wall_s"], rel_tol=0.01), r
    assert math.isclose(r["per_gpu_samples_per_second"], r["samples_per_second"] / k, rel_tol=0.01, abs_tol=0.1), r
    st = r["step_time_ms"]
    assert st["count"] == steps and 0 < st["min"] <= st["p50"] <= st["p90"] <= st["p99"] <= st["max"], st
    # the steps add up to the timed wall time (each step takes its slowest rank's time)
    assert 0.75 < st["mean"] * steps / 1000.0 / r["wall_s"] < 1.5, (st, r["wall_s"])
    assert math.isfinite(r["loss_first"]) and math.isfinite(r["loss_last"]), r
    assert r["gpu_utilization_mean_percent"] is None and r["nvml_samples"] == 0
one, two = runs
assert one["scaling_efficiency_percent"] == 100.0
eff = two["samples_per_second"] / (2 * one["samples_per_second"]) * 100
assert math.isclose(two["scaling_efficiency_percent"], eff, abs_tol=0.15), (two, eff)
assert m["scaling_efficiency_percent"] == two["scaling_efficiency_percent"] == checks["ddp_benchmark.scaling_efficiency"]["value"]
assert m["samples_per_second"] == two["samples_per_second"] == checks["ddp_benchmark.throughput"]["value"]

cfg = m["config"]
assert (cfg["device"], cfg["backend"], cfg["model"], cfg["world_sizes"], cfg["nproc_per_node"]) == ("cpu", "gloo", "small_cnn", [1, 2], 2), cfg
assert cfg["launcher"] == "torch.distributed.run" and "-m torch.distributed.run --standalone" in cfg["command"], cfg["command"]
env = mod["environment"]
assert env["torch"].startswith("2.") and env["hosts"] and len(env["devices"]) == 2, env

scaling, configuration = mod["tables"]
assert scaling["columns"][:4] == ["world size", "samples/s", "samples/s per process", "scaling efficiency %"], scaling
assert [row[0] for row in scaling["rows"]] == [1, 2] and all(row[1] > 0 for row in scaling["rows"]), scaling
assert dict(configuration["rows"])["backend"] == "gloo"
plot = mod["plots"][0]
assert plot["series"]["measured"] == [[1, one["samples_per_second"]], [2, two["samples_per_second"]]], plot
ideal = plot["series"]["ideal (linear from world size 1)"]
assert math.isclose(ideal[1][1], 2 * one["samples_per_second"], abs_tol=0.1), ideal

md = open(os.path.join(d, "validation-report.md")).read()
assert "### Scaling: small_cnn, batch 8 per process, fp32, gloo on cpu" in md, md
html = open(os.path.join(d, "validation-report.html")).read()
assert "Training throughput vs world size" in html and "<svg" in html
print("ddp_benchmark report ok: %.1f -> %.1f samples/s, %.1f%% scaling efficiency" % (
    one["samples_per_second"], two["samples_per_second"], two["scaling_efficiency_percent"]))
PY

start=$(date +%s)
ansible-playbook -i "$inv" module.yml -e "ai_python=$ai_python" "$@"
echo "module error paths: $(( $(date +%s) - start ))s"

# Nothing the module started is still running (its workers run from vaultcube-ddp-* folders).
if pgrep -af 'vaultcube-ddp-[^/]*/ddp_worker.py'; then
  echo "leftover ddp_benchmark processes" >&2
  exit 1
fi
echo "ddp_benchmark: all good"
