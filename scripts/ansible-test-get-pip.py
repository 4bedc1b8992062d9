"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads from
ci-files.testing.ansible.com (not reachable from this project's build machines).

ansible-test creates its sanity venvs without pip and then runs this file, with pip's own
command-line arguments, to put pip in them. We do the same with the standard library's
ensurepip, then let that pip install what ansible-test asked for.

ansible-test runs this with a scrubbed environment, so pip settings given to the caller through
PIP_* variables (a CA bundle, an index mirror) would be lost: scripts/test.sh saves them next to
this file as get_pip_settings.ini, and we copy that into the new venv as its pip.conf.
scripts/test.sh copies this file to ~/.ansible/test/cache/get_pip_<version>.py.
"""

import ensurepip
import os
import shutil
import subprocess
import sys

settings = os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_settings.ini")
if os.path.exists(settings) and sys.prefix != sys.base_prefix:
    shutil.copyfile(settings, os.path.join(sys.prefix, "pip.conf"))
env = dict(os.environ)
ensurepip.bootstrap(upgrade=True, default_pip=True)  # it sets PIP_CONFIG_FILE=/dev/null in os.environ
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args, env=env))
