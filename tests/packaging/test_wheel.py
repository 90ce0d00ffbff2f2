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


"""The built wheel ships the code, the samples and honest requirements."""

import ast
import configparser
import os
import sys
import tempfile
import zipfile

import testtools

from tests.packaging import wheel

# Top-level imports that are not a third-party distribution.
OURS = 'openstack_ext'


def third_party_imports(path, at_import_time=False):
    """Top-level names of what the module at *path* imports.

    With *at_import_time*, only the imports run when the module is
    imported, not those inside its functions.
    """
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    names = set()
    for node in tree.body if at_import_time else ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split('.')[0])
    return {n for n in names
            if n != OURS and n not in sys.stdlib_module_names}


def half_imports(*subdirs):
    found = set()
    for subdir in subdirs:
        folder = os.path.join(wheel.TOP, OURS, *subdir)
        for name in sorted(os.listdir(folder)):
            if name.endswith('.py'):
                found |= third_party_imports(os.path.join(folder, name))
    return found


class WheelTest(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super(WheelTest, cls).setUpClass()
        cls.tmp = tempfile.TemporaryDirectory()
        with zipfile.ZipFile(wheel.build(cls.tmp.name)) as whl:
            cls.names = set(whl.namelist())
            (cls.dist_info,) = {n.split('/')[0] for n in cls.names
                                if n.split('/')[0].endswith('.dist-info')}
            cls.metadata = whl.read(cls.dist_info + '/METADATA').decode()
            entry_points = configparser.ConfigParser()
            entry_points.read_string(
                whl.read(cls.dist_info + '/entry_points.txt').decode())
            cls.entry_points = entry_points

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()
        super(WheelTest, cls).tearDownClass()

    def requires(self, extra=None):
        """Distribution names required (by *extra*, or always)."""
        marker = None if extra is None else 'extra == "%s"' % extra
        found = set()
        for line in self.metadata.splitlines():
            if not line.startswith('Requires-Dist: '):
                continue
            spec, _semi, cond = line[len('Requires-Dist: '):].partition(';')
            if (cond.strip() or None) == marker:
                name = spec.split('>')[0].split('<')[0].split('=')[0]
                found.add(name.strip().lower().replace('_', '-'))
        return found

    def test_ships_every_sample_under_share(self):
        data = self.dist_info.replace('.dist-info', '.data') + '/data/'
        shipped = {n[len(data):] for n in self.names if n.startswith(data)}
        expected = {os.path.join(wheel.SAMPLES, f) for f in wheel.etc_files()}
        self.assertIn(os.path.join(wheel.SAMPLES, 'swift',
                                   'proxy-server.conf-sample-ip_whitelist'),
                      expected)  # the control: etc/ was found
        self.assertEqual(expected, shipped)

    def test_kolla_nova_api_names_the_installed_api_paste(self):
        # Kolla's nova images pip-install the package into their venv:
        # nova-api.conf points at where the wheel puts the api-paste.ini.
        conf = configparser.RawConfigParser()
        conf.read(os.path.join(wheel.TOP, 'etc', 'deploy', 'kolla-ansible',
                               'config', 'nova', 'nova-api.conf'))
        prefix = '/var/lib/kolla/venv/'
        path = conf['wsgi']['api_paste_config']
        self.assertTrue(path.startswith(prefix), path)
        data = self.dist_info.replace('.dist-info', '.data') + '/data/'
        self.assertIn(data + path[len(prefix):], self.names)

    def test_ships_every_module(self):
        modules = set()
        for folder, _dirs, files in os.walk(os.path.join(wheel.TOP, OURS)):
            modules.update(os.path.relpath(os.path.join(folder, f), wheel.TOP)
                           for f in files if f.endswith('.py'))
        self.assertIn('openstack_ext/swift/ip_whitelist.py', modules)
        self.assertEqual(modules, {n for n in self.names
                                   if n.endswith('.py')})
        self.assertFalse([n for n in self.names if n.startswith('tests/')])

    def test_entry_points(self):
        ep = self.entry_points
        self.assertEqual('openstack_ext.swift.ip_whitelist:filter_factory',
                         ep['paste.filter_factory']['ip_whitelist'])
        self.assertEqual('openstack_ext.nova.pool_stamp:filter_factory',
                         ep['paste.filter_factory']['ip_pool_stamp'])
        self.assertEqual('openstack_ext.opts:list_opts',
                         ep['oslo.config.opts']['openstack_ext.nova'])
        self.assertEqual('openstack_ext.cmd.cli:main',
                         ep['console_scripts']['openstack-ext'])

    def test_install_requirements_are_what_every_half_needs(self):
        always = self.requires()
        self.assertEqual({'pbr'}, always)
        # The shared code and the command import nothing else at import
        # time; a verb imports its half when it runs.
        shared = set()
        for path in [os.path.join(wheel.TOP, OURS, f) for f in
                     ('__init__.py', 'addresses.py')]:
            shared |= third_party_imports(path)
        self.assertEqual(set(), shared)
        command = os.path.join(wheel.TOP, OURS, 'cmd')
        self.assertIn('swift', third_party_imports(
            os.path.join(command, 'check_pipeline.py')))  # the control
        for name in sorted(os.listdir(command)):
            if name.endswith('.py'):
                self.assertEqual(set(), third_party_imports(
                    os.path.join(command, name), at_import_time=True), name)

    def test_each_extra_declares_what_its_half_imports(self):
        dist_of = {'oslo_config': 'oslo.config', 'oslo_log': 'oslo.log',
                   'oslo_middleware': 'oslo.middleware',
                   'oslo_messaging': 'oslo.messaging', 'webob': 'webob',
                   'nova': 'nova', 'swift': 'swift'}
        nova = half_imports(('nova',))
        swift = half_imports(('swift',))
        self.assertIn('oslo_log', nova)  # the control: imports were read
        self.assertEqual({'swift'}, swift)
        self.assertTrue(nova <= set(dist_of), nova)
        self.assertTrue({dist_of[n] for n in nova} <= self.requires('nova'))
        self.assertEqual({'swift'}, self.requires('swift'))
        self.assertFalse([d for d in self.requires('swift')
                          if d.startswith('oslo')])
