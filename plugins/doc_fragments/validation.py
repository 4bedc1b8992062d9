# -*- coding: utf-8 -*-
# Copyright: (c) 2026, VaultCube
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """Options and attributes shared by the collection's validation modules."""

    DOCUMENTATION = r"""
options:
  fail_on_threshold:
    description:
      - Fail the task when a judged check fails. The C(validation) role sets this to V(false) so
        that it can write the whole report before it fails the play.
      - Errors that stop the measurement itself (bad parameters, a crashed worker) always fail.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: In check mode the module says what it would run (or, for read-only queries, runs them).
  diff_mode:
    support: none
    description: Nothing to show as a diff.
notes:
  - Results follow the collection's validation contract - C(passed), C(checks), C(metrics),
    C(thresholds), C(failures), C(environment) - described in docs/architecture.md.
  - The module measures and never changes the host, so C(changed) is always V(false).
"""
