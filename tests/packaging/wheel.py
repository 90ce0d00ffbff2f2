# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.


"""Build the project's wheel, the way ``pip install .`` would."""

import contextlib
import fcntl
import glob
import hashlib
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONSTRAINTS = os.environ.get('TOX_CONSTRAINTS_FILE') or os.path.join(
    TOP, 'upper-constraints.txt')
# The prefix-relative place of the samples (setup.cfg [files] data_files).
SAMPLES = os.path.join('share', 'openstack-ext', 'etc')


@contextlib.contextmanager
def _tree_lock():
    # A build writes into the source tree (build/, *.egg-info): one at a
    # time, whichever test worker asks.
    name = 'openstack-ext-wheel-%s.lock' % hashlib.sha1(
        TOP.encode()).hexdigest()[:12]
    with open(os.path.join(tempfile.gettempdir(), name), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def pip(python, *args, **kwargs):
    """Run pip of *python*; its cache is the user's, so reruns are fast."""
    return subprocess.run(
        [python, '-m', 'pip', '--disable-pip-version-check',
         '--no-input'] + list(args), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True, check=True,
        timeout=kwargs.get('timeout', 900))


def build(dest):
    """Build the wheel into *dest* and return its path."""
    with _tree_lock():
        pip(sys.executable, 'wheel', '--no-deps', '--wheel-dir', dest, TOP)
    wheels = glob.glob(os.path.join(dest, 'openstack_ext-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def etc_files():
    """The samples under etc/, relative to it: what the wheel must ship."""
    found = set()
    for folder, _dirs, files in os.walk(os.path.join(TOP, 'etc')):
        for name in files:
            found.add(os.path.relpath(os.path.join(folder, name),
                                      os.path.join(TOP, 'etc')))
    return found
