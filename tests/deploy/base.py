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

"""The deployment tools' own code, run on this machine.

Each tool runs from its own virtualenv, which tools/deploy-tools.sh
installs from PyPI with the versions of tools/deploy-tools/NAME.txt (the
bootstrap does it ahead; here it is only checked, or installed if
missing). A test is skipped, saying why, only when that install fails.
Ansible runs on localhost, with a local connection only.
"""

import configparser
import os
import subprocess
import sys

import fixtures
from oslo_config import cfg
import testtools
import yaml

from nova.conf import scheduler as scheduler_conf
from nova.scheduler import filters

from openstack_ext.nova import conf as pool_conf

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEPLOY = os.path.join(TOP, 'etc', 'deploy')
VENV = os.environ.get('OPENSTACK_EXT_VENV') or os.path.dirname(
    os.path.dirname(sys.executable))
SECRET = 'deploy-test-stamp-secret-0123456789abcdef'


def tool_venv(test, name):
    """The virtualenv of tools/deploy-tools/NAME.txt; skip if no install."""
    result = subprocess.run(
        ['bash', os.path.join(TOP, 'tools', 'deploy-tools.sh'), name],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True, timeout=900,
        env=dict(os.environ, OPENSTACK_EXT_VENV=VENV))
    if result.returncode:
        test.skipTest('tools/deploy-tools/%s.txt cannot be installed from '
                      'the registry: %s' % (name, result.stdout[-1500:]))
    return os.path.join(VENV, 'deploy-tools', name)


def run_playbook(test, venv, playbook, workdir, action_plugins,
                 library=None):
    """Run *playbook* (a list of plays) on localhost; return its output."""
    path = os.path.join(workdir, 'playbook.yml')
    with open(path, 'w') as f:
        yaml.safe_dump(playbook, f)
    env = {'PATH': os.path.join(venv, 'bin') + os.pathsep + os.environ.get(
               'PATH', ''),
           'HOME': workdir, 'LANG': 'C.UTF-8',
           'ANSIBLE_ACTION_PLUGINS': action_plugins,
           'ANSIBLE_PYTHON_INTERPRETER': os.path.join(venv, 'bin', 'python'),
           'ANSIBLE_LOCAL_TEMP': os.path.join(workdir, 'ansible-tmp'),
           'ANSIBLE_REMOTE_TEMP': os.path.join(workdir, 'ansible-tmp'),
           'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_RETRY_FILES_ENABLED': '0',
           'ANSIBLE_CONFIG': os.path.join(workdir, 'none.cfg')}
    if library:
        env['ANSIBLE_LIBRARY'] = library
    result = subprocess.run(
        [os.path.join(venv, 'bin', 'ansible-playbook'), '-i', 'localhost,',
         '-c', 'local', path], cwd=workdir, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True, timeout=300)
    test.assertEqual(0, result.returncode, result.stdout)
    return result.stdout


def read_yaml(*path):
    with open(os.path.join(DEPLOY, *path)) as f:
        return yaml.safe_load(f)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return path


def nova_conf(path):
    """*path* read as nova-scheduler reads it: ``(conf, enabled filters)``.

    Nova's own option definitions; the filter classes as nova-scheduler's
    HostManager finds them: ``available_filters`` through Nova's
    HostFilterHandler, then every enabled name must be one of them.
    """
    conf = cfg.ConfigOpts()
    scheduler_conf.register_opts(conf)
    pool_conf.register_opts(conf)
    conf(['--config-file', path], project='nova', default_config_files=[])
    classes = filters.HostFilterHandler().get_matching_classes(
        conf.filter_scheduler.available_filters)
    by_name = {cls.__name__: cls for cls in classes}
    missing = [name for name in conf.filter_scheduler.enabled_filters
               if name not in by_name]
    if missing:
        raise AssertionError('enabled_filters not available: %s' % missing)
    return conf, [by_name[name] for name in
                  conf.filter_scheduler.enabled_filters]


def sections(path):
    parser = configparser.RawConfigParser(strict=False)
    parser.read(path)
    return {name: dict(parser[name]) for name in parser.sections()}


class ToolTestCase(testtools.TestCase):
    """Runs one tool; the work directory is removed afterwards."""

    def setUp(self):
        super(ToolTestCase, self).setUp()
        self.workdir = self.useFixture(fixtures.TempDir()).path
