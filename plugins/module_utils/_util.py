# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers every part of the collection uses, each written once.

* ``PlanError`` - a request that cannot be run as asked, with one sentence that says why. Planning
  code raises it (ddp_benchmark, vllm_bench, the ai_frameworks role's filter); the module turns it
  into ``fail_json(msg=...)``.
* ``percentile`` - linear interpolation between the closest ranks (numpy's default method), the
  one percentile behind every p50/p90/p99 the collection reports.
* ``version_tuple`` - the numbers of a version string as a tuple, for comparing versions.

Nothing here imports Ansible: the workers import a copy written beside them (see _proc.write_bundle).
"""

from __future__ import absolute_import, division, print_function

import math
import re


class PlanError(ValueError):
    """A request that cannot be run as asked; the message is one sentence that says why."""


def percentile(values, pct):
    """Percentile (``pct`` in 0-100) with linear interpolation between the closest ranks.

    ``None`` entries are left out; an empty list gives ``None``.
    """
    data = sorted(v for v in values if v is not None)
    if not data:
        return None
    if len(data) == 1:
        return float(data[0])
    rank = (len(data) - 1) * (pct / 100.0)
    low = int(math.floor(rank))
    high = int(math.ceil(rank))
    return float(data[low] + (data[high] - data[low]) * (rank - low))


def version_tuple(text):
    """'580.159.04' -> (580, 159, 4); every run of digits counts, anything else separates them."""
    return tuple(int(part) for part in re.findall(r"\d+", str(text or "")))
