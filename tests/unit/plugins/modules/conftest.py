# -*- coding: utf-8 -*-
"""Modules run here as they run on a target: not in the controller.

Importing any controller code in the same pytest process (the action plugins' tests import
``ansible.plugins.action``) sets ``ansible.module_utils._internal.is_controller``, after which
``AnsibleModule.warn``/``deprecate`` go to the controller's display instead of the module's JSON
answer, and the tests that read warnings and deprecations from that answer see none.
"""

import pytest
from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def _as_on_a_target(monkeypatch):
    monkeypatch.setattr(_internal, "is_controller", False)
