# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyTorch's own launcher (``python -m torch.distributed.run``, i.e. torchrun) and its rendezvous
options, shared by the modules that start ranks (ddp_benchmark, gpu_bandwidth).

A single node runs ``--standalone``. Several nodes meet either at a ``c10d`` rendezvous
(``rdzv_endpoint``, node ranks assigned by it) or at a static one (``master_addr``/``master_port``
with ``node_rank`` per host); every node runs the same module with the same values.
"""

from __future__ import absolute_import, division, print_function

import re

HOST_PORT = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")

# The rendezvous options, with the same names and defaults in every module that launches ranks.
RENDEZVOUS_ARGS = {
    "nnodes": {"type": "int", "default": 1},
    "node_rank": {"type": "int", "default": 0},
    "master_addr": {"type": "str"},
    "master_port": {"type": "int", "default": 29500},
    "rdzv_endpoint": {"type": "str"},
}


def rendezvous_problem(params):
    """One sentence about the first bad rendezvous option, or None."""
    if params["nnodes"] < 1:
        return "nnodes must be 1 or more, got %d." % params["nnodes"]
    if not 0 <= params["node_rank"] < params["nnodes"]:
        return "node_rank must be between 0 and nnodes - 1 (%d), got %d." % (params["nnodes"] - 1, params["node_rank"])
    if not 1 <= params["master_port"] <= 65535:
        return "master_port must be a TCP port (1-65535), got %d." % params["master_port"]
    if params["rdzv_endpoint"] is not None and not HOST_PORT.match(params["rdzv_endpoint"]):
        return "rdzv_endpoint must look like host:port, got '%s'." % params["rdzv_endpoint"]
    if params["nnodes"] > 1 and not (params["rdzv_endpoint"] or params["master_addr"]):
        return "nnodes %d needs a rendezvous: set rdzv_endpoint (host:port of a c10d rendezvous) or master_addr." % params["nnodes"]
    if params["rdzv_endpoint"] and params["master_addr"]:
        return "Set either rdzv_endpoint (c10d rendezvous) or master_addr (static rendezvous), not both."
    return None


def torchrun_argv(interpreter, params, nnodes, nproc_per_node, script_args):
    """The launcher's command line: ``interpreter -m torch.distributed.run <rendezvous> ... script``."""
    argv = [interpreter, "-m", "torch.distributed.run"]
    if nnodes == 1 and not params["rdzv_endpoint"] and not params["master_addr"]:
        argv += ["--standalone", "--nnodes", "1"]
    elif params["rdzv_endpoint"]:
        argv += ["--nnodes", str(nnodes), "--rdzv-backend", "c10d", "--rdzv-endpoint", params["rdzv_endpoint"],
                 "--rdzv-id", params["rdzv_id"]]
    else:
        argv += ["--nnodes", str(nnodes), "--node-rank", str(params["node_rank"]),
                 "--master-addr", params["master_addr"], "--master-port", str(params["master_port"])]
    return argv + ["--nproc-per-node", str(nproc_per_node), "--max-restarts", "0"] + list(script_args)
