# -*- coding: utf-8 -*-
"""Read the deprecations a module's JSON answer carries, whichever form ansible-core gives them.

ansible-core before 2.19 returns ``{"msg", "version", "collection_name"}``; later versions return
a ``DeprecationSummary`` with the message under ``event`` and the collection under ``deprecator``.
"""


def deprecations(out):
    """[(message, version, collection)] of every deprecation in a module's answer."""
    found = []
    for item in out.get("deprecations") or []:
        msg = item.get("msg") or (item.get("event") or {}).get("msg")
        collection = item.get("collection_name") or (item.get("deprecator") or {}).get("resolved_name")
        found.append((msg, item.get("version"), collection))
    return found


def alias_deprecated(name):
    """What Ansible says when a deprecated alias of this collection is used."""
    return ("Alias '%s' is deprecated. See the module docs for more information" % name, "1.0.0", "vaultcube.demobox")


def forget_deprecations():
    """Forget the deprecations earlier tests in this process emitted (AnsibleModule keeps them in a
    process-wide store), so that a test sees only its own."""
    from ansible.module_utils.common import warnings  # pylint: disable=import-outside-toplevel

    getattr(warnings, "_global_deprecations", {}).clear()
