#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

DOCUMENTATION = r"""
---
module: cuda_facts
short_description: Find the CUDA toolkits on a host and query its CUDA devices
version_added: "0.1.0"
description:
  - Looks for C(nvcc) in the usual toolkit locations (NVIDIA's C(/usr/local/cuda-X.Y), the
    distribution's C(nvidia-cuda-toolkit), C(/opt)), in the extra O(search_paths) and on PATH,
    runs C(nvcc --version) for each and reports the versions found.
  - Picks the toolkit whose major.minor version equals O(version), if there is one.
  - Queries the CUDA devices through the CUDA driver API (C(libcuda.so.1), with ctypes) in a
    child process with a timeout, so it needs no compiler and no framework. A host with no
    driver or no GPU is not an error; the query reports why it found no device.
  - The module only reads. It never reports C(changed) and runs the same in check mode.
extends_documentation_fragment:
  - vaultcube.demobox.validation.worker
options:
  version:
    description:
      - The CUDA version wanted, for example V(13.0); RV(toolkit) is the toolkit of that version.
    type: str
  search_paths:
    description:
      - Extra glob patterns of C(nvcc) executables, searched before the default locations.
    type: list
    elements: str
    default: []
  device_query:
    description:
      - Query the CUDA devices through the driver API.
    type: bool
    default: true
  query_timeout:
    description:
      - Seconds the device query may take before it is stopped (the C(nvcc --version) calls are
        not counted).
    type: int
    default: 60
requirements:
  - Nothing beyond the Python standard library in O(worker_python) (the query uses ctypes).
attributes:
  action_group:
    support: full
    membership:
      - vaultcube.demobox.gpu_workers
    description: Set its shared options once with C(module_defaults) and C(group/vaultcube.demobox.gpu_workers).
author:
  - VaultCube engineering (@vaultcube)
"""

EXAMPLES = r"""
- name: Find CUDA 13.0 and the devices the driver offers.
  vaultcube.demobox.cuda_facts:
    version: "13.0"
  register: cuda_found

- name: Show where nvcc 13.0 is.
  ansible.builtin.debug:
    msg: "{{ cuda_found.toolkit.nvcc if cuda_found.toolkit else 'no CUDA 13.0 toolkit' }}"
"""

RETURN = r"""
changed:
  description: Always V(false).
  returned: always
  type: bool
toolkits:
  description: Every toolkit found, in search order.
  returned: always
  type: list
  elements: dict
  sample: [{"nvcc": "/usr/local/cuda-13.0/bin/nvcc", "version": "13.0", "build": "13.0.48",
            "cuda_home": "/usr/local/cuda-13.0"}]
toolkit:
  description: The toolkit of the version asked for (V(null) when there is none, or none was asked for).
  returned: always
  type: dict
driver_cuda_version:
  description: The highest CUDA version the installed driver supports (V(null) without a driver).
  returned: always
  type: str
  sample: "13.0"
devices:
  description: The CUDA devices, as the driver API reports them.
  returned: always
  type: list
  elements: dict
  sample: [{"index": 0, "name": "NVIDIA H200", "compute_capability": "9.0", "multiprocessors": 132,
            "memory_mib": 143167, "pci_bus_id": "0000:18:00.0"}]
device_query_error:
  description: Why the device query found no device (V(null) when it ran fine).
  returned: always
  type: str
  sample: "cuInit failed with CUDA_ERROR_NO_DEVICE"
msg:
  description: One sentence.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vaultcube.demobox.plugins.module_utils import _args, _cuda, _proc


def find_toolkits(module):
    paths = _cuda.candidate_nvccs(list(module.params["search_paths"]) + list(_cuda.DEFAULT_NVCC_GLOBS),
                                  os.environ.get("PATH", ""))
    toolkits = []
    for nvcc in paths:
        rc, out, err = module.run_command([nvcc, "--version"])
        parsed = _cuda.parse_nvcc_version(out) if rc == 0 else None
        if parsed is None:
            toolkits.append({"nvcc": nvcc, "version": None, "build": None, "cuda_home": _cuda.cuda_home(nvcc),
                             "error": (err or out).strip().splitlines()[-1] if (err or out).strip() else "exit %d" % rc})
            continue
        parsed.update({"nvcc": nvcc, "cuda_home": _cuda.cuda_home(nvcc), "error": None})
        toolkits.append(parsed)
    return toolkits


def query_devices(module):
    python = _args.worker_python(module)
    with _proc.work_dir("cuda") as workdir:
        script = _proc.write_bundle(workdir, [_cuda], _cuda.WORKER_MAIN)
        child = _proc.ChildRun([python, script, workdir], timeout=module.params["query_timeout"],
                               workdir=workdir).start()
        rc = child.wait()
        report = _cuda.parse_worker_output(child.stdout())
        if report is None:
            tail = child.stderr_tail(3)
            how = _proc.describe_exit(rc, child.timed_out, child.timeout)
            detail = (": " + tail[-1]) if tail else ""
            return {"devices": [], "driver_cuda_version": None, "error": "the device query %s%s" % (how, detail)}
        return report


def main():
    argument_spec = dict(
        version=dict(type="str"),
        search_paths=dict(type="list", elements="str", default=[]),
        device_query=dict(type="bool", default=True),
        query_timeout=dict(type="int", default=60),
    )
    argument_spec.update(_args.worker_argspec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["query_timeout"] < 1:
        module.fail_json(msg="query_timeout must be 1 second or more, got %d." % module.params["query_timeout"])
    toolkits = find_toolkits(module)
    wanted = module.params["version"]
    toolkit = _cuda.choose(toolkits, wanted) if wanted else None
    if module.params["device_query"]:
        report = query_devices(module)
    else:
        report = {"devices": [], "driver_cuda_version": None, "error": "the device query was turned off"}

    found = ", ".join("CUDA %s at %s" % (t["version"], t["nvcc"]) for t in toolkits if t["version"]) or "no CUDA toolkit"
    if report["devices"]:
        devices = "%d CUDA device(s): %s" % (len(report["devices"]), ", ".join(
            "%s (compute capability %s)" % (d["name"], d["compute_capability"]) for d in report["devices"]))
    else:
        devices = "no CUDA device (%s)" % report.get("error")
    module.exit_json(
        changed=False,
        toolkits=toolkits,
        toolkit=toolkit,
        driver_cuda_version=report.get("driver_cuda_version"),
        devices=report["devices"],
        device_query_error=report.get("error"),
        msg="Found %s; %s." % (found, devices),
    )


if __name__ == "__main__":
    main()
