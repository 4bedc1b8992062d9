# -*- coding: utf-8 -*-
"""Make ``ansible_collections.vaultcube.demobox`` importable when pytest runs inside the source
copy at build/src/ansible_collections/vaultcube/demobox (scripts/test.sh makes it)."""

import os
import sys

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLLECTIONS_PARENT = os.path.abspath(os.path.join(COLLECTION_ROOT, "..", "..", ".."))
HERE = os.path.dirname(__file__)

if os.path.basename(os.path.dirname(os.path.dirname(COLLECTION_ROOT))) != "ansible_collections":
    raise RuntimeError(
        "Run the unit tests from a copy at .../ansible_collections/vaultcube/demobox: "
        "use `make unit` (it makes build/src/ansible_collections/vaultcube/demobox)."
    )
for path in (COLLECTIONS_PARENT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)
