#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: llm_endpoint_bench
short_description: Measure an OpenAI-compatible LLM endpoint's throughput and latency
version_added: "0.2.0"
description:
  - Benchmarks any OpenAI-compatible endpoint (C(vllm serve) or another server) with streaming
    C(/v1/completions) (or C(/v1/chat/completions)) requests at a chosen concurrency and request
    rate, the way vLLM's own C(vllm bench serve) does, and reports time to first token (TTFT), time
    per output token (TPOT), inter-token latency (ITL) and end-to-end latency (mean, p50, p90, p99),
    requests/s, output tokens/s, total tokens/s and failed requests, per workload.
  - One test request goes first; a wrong URL, route, model or protocol fails the task with one
    sentence before the benchmark starts.
  - The client uses the Python standard library only and runs in the module's process; it starts
    no worker and needs neither vLLM nor a GPU on the host it runs on.
  - This was C(vaultcube.demobox.vllm_bench) with O(vaultcube.demobox.vllm_bench#module:mode=serve), whose
    engine options (model loading, GPU memory, the worker's interpreter) never applied to an
    endpoint; that usage still works, with a deprecation warning, until 1.0.0.
  - The module measures only and never reports C(changed).
extends_documentation_fragment:
  - vaultcube.demobox.validation
  - vaultcube.demobox.llm_bench
  - vaultcube.demobox.llm_bench.serve
options:
  endpoint:
    description: Base URL of the OpenAI-compatible API, for example V(http://127.0.0.1:8000/v1).
    type: str
    required: true
  model:
    description:
      - The model name to request; default the first model the endpoint lists.
    type: str
  timeout:
    description:
      - Seconds all workloads may take together; a request without an answer by then counts as failed.
    type: int
    default: 1200
  quality_check:
    description:
      - Run the output-quality check. Default (null) - not run, because the module cannot tell whether
        the endpoint's weights are real; V(true) runs it.
    type: bool
notes:
  - "The figures follow C(vllm bench serve --dataset-name random) (docs/vllm_bench.md)."
seealso:
  - module: vaultcube.demobox.vllm_bench
    description: vLLM's offline engine measured on this host.
  - name: vLLM serving benchmark
    description: vLLM's own serving benchmark, which this module follows.
    link: https://docs.vllm.ai/en/latest/cli/bench/serve.html
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Benchmark a local vllm serve at 8 requests in flight.
  vaultcube.demobox.llm_endpoint_bench:
    endpoint: http://127.0.0.1:8000/v1
    num_prompts: 100
    input_len: 128
    output_len: 128
    concurrency: 8
    max_ttft_p99_ms: 500

- name: A chat endpoint with text prompts, two workloads, the result kept for the report.
  vaultcube.demobox.llm_endpoint_bench:
    endpoint: https://llm.example.internal/v1
    api: chat
    api_key: "{{ llm_api_key }}"
    prompt_format: text
    workloads:
      - {name: short, num_prompts: 30, input_len: 32, output_len: 50}
      - {name: long, num_prompts: 10, input_len: 1024, output_len: 256}
    fail_on_threshold: false
  register: endpoint_bench
"""

RETURN = r"""
changed:
  description: Always V(false); the module only measures.
  returned: always
  type: bool
passed:
  description: V(true) when every threshold set was met, V(false) when one was not, V(null) when none was judged.
  returned: always
  type: bool
checks:
  description:
    - One entry per judged or reported figure - C(llm_endpoint_bench.output_tokens_per_s),
      C(llm_endpoint_bench.requests_per_s), C(llm_endpoint_bench.total_tokens_per_s),
      C(llm_endpoint_bench.latency_p99_ms), C(llm_endpoint_bench.ttft_p99_ms), C(llm_endpoint_bench.tpot_p99_ms),
      C(llm_endpoint_bench.failed_requests), C(llm_endpoint_bench.weights), C(llm_endpoint_bench.quality).
      With several workloads the per-workload names end in C([name]).
  returned: always
  type: list
  elements: dict
metrics:
  description: The figures.
  returned: always
  type: dict
  contains:
    mode: {description: Always V(serve)., type: str}
    model: {description: The model requested., type: str}
    endpoint: {description: The endpoint's base URL., type: str}
    weights: {description: Always V(unknown) (an endpoint does not say)., type: str}
    output_tokens_per_s: {description: Generated tokens per second of the first workload., type: float}
    total_tokens_per_s: {description: Prompt plus generated tokens per second of the first workload., type: float}
    requests_per_s: {description: Requests per second of the first workload., type: float}
    workloads:
      description:
        - Per workload - C(name), C(num_prompts), C(input_len), C(output_len), C(duration_s), C(requests_per_s),
          C(output_tokens_per_s), C(total_tokens_per_s), C(prompt_tokens), C(output_tokens), C(completed),
          C(failed), and distributions (C(mean), C(p50), C(p90), C(p99), C(min), C(max), C(count)) C(latency_ms),
          C(ttft_ms), C(tpot_ms), C(itl_ms).
      type: list
      elements: dict
    quality: {description: "C(passed), C(total) and C(rate) of the quality check, when it ran.", type: dict}
thresholds:
  description: What the figures were judged against (V(null) = reported without judging).
  returned: always
  type: dict
failures:
  description: One sentence per failed check.
  returned: always
  type: list
  elements: str
environment:
  description: The endpoint, the served model and the models it lists, the server's version (where it says), the API and prompt format.
  returned: always
  type: dict
tables:
  description: Throughput and latency per workload, quality answers - rendered by the validation report.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args
from ansible_collections.vaultcube.demobox.plugins.module_utils import _llm_serve as S
from ansible_collections.vaultcube.demobox.plugins.module_utils import _result as R
from ansible_collections.vaultcube.demobox.plugins.module_utils._util import PlanError

PREFIX = "llm_endpoint_bench."


def argument_spec():
    spec = dict(
        endpoint=dict(type="str", required=True),
        model=dict(type="str"),
        quality_check=dict(type="bool"),
    )
    spec.update(_args.common_argspec(worker=False, nvml=False, timeout=1200))
    spec.update(_args.llm_argspec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        plan = S.plan_serve(params)
    except (PlanError, S.EndpointError) as exc:
        module.fail_json(msg=str(exc), changed=False)
    if module.check_mode:
        R.exit_with(module, S.check_mode_result(params, plan, PREFIX), False)
    try:
        out = S.run_serve(params, plan, PREFIX, who="llm_endpoint_bench")
    except S.EndpointError as exc:
        module.fail_json(msg=str(exc), changed=False)
    R.exit_with(module, out, params["fail_on_threshold"])


if __name__ == "__main__":
    main()
