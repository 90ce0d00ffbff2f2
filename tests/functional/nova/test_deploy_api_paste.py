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

"""The api-paste files of etc/deploy/ run in a real nova-api.

nova-api loads each one with paste.deploy and Nova's own app factories
(Nova's functional fixtures stub only Keystone's token check); with
``stamp_secret`` set the scheduler refuses any boot ip_pool_stamp did not
stamp, so a server landing in its pool proves the filter ran.
"""

import importlib.metadata
import os
import re

import fixtures
import yaml

from nova import context as nova_context
from nova import objects

from openstack_ext.nova import pools
from tests.functional.nova import base

DEPLOY = os.path.join(base.TOP, 'etc', 'deploy')
HELM_VALUES = os.path.join(base.TOP, 'tests', 'unit', 'cmd', 'data',
                           'openstack-helm-0ee5ade-nova-values.yaml')


def with_sections(text, sections):
    """*text* (an ini file) with these ``{section: {key: value}}`` set.

    Keys of a section already there are replaced, others added, as
    helm-toolkit's values merge and OpenStack-Ansible's config_template do.
    """
    for name, options in sections.items():
        pattern = re.compile(r'^\[%s\]\n((?:[^\[\n].*\n|\n)*)' % re.escape(
            name), re.MULTILINE)
        match = pattern.search(text)
        body = match.group(1) if match else ''
        for key, value in options.items():
            line = '%s = %s\n' % (key, value)
            body, count = re.subn(r'^%s\s*=.*\n' % re.escape(key),
                                  lambda _m: line, body, flags=re.MULTILINE)
            if not count:
                body = body.rstrip('\n') + '\n' + line if body else line
        section = '[%s]\n%s\n' % (name, body.rstrip('\n') + '\n')
        if match:
            text = text[:match.start()] + section + text[match.end():]
        else:
            text = text.rstrip('\n') + '\n\n' + section
    return text


def read_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


class DeployedApiPasteTest(base.PoolTestCase):

    def test_boot_is_stamped_and_lands_in_its_pool(self):
        self.lure_away_from('doc')
        server = self.boot(self.client_from('10.1.2.3'))
        self.assertInPool(server, 'doc', self.id().split('.')[-2])
        spec = objects.RequestSpec.get_by_instance_uuid(
            nova_context.get_admin_context(), server['id'])
        self.assertIn(pools.HINT, spec.scheduler_hints)

    def written_paste(self, text):
        """The path of a temporary api-paste.ini holding *text*."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'api-paste.ini')
        with open(path, 'w') as f:
            f.write(text)
        return path


class KollaApiPasteTest(DeployedApiPasteTest):
    """Kolla's route: [wsgi] api_paste_config points at the whole file."""

    def api_paste_config(self):
        return os.path.join(DEPLOY, 'kolla-ansible', 'api-paste.ini')


class OpenStackAnsibleApiPasteTest(DeployedApiPasteTest):
    """Nova's file with nova_api_paste_ini_overrides applied."""

    def api_paste_config(self):
        overrides = read_yaml(os.path.join(
            DEPLOY, 'openstack-ansible',
            'user_variables_openstack_ext_api_paste.yml'))
        with open(base.nova_api_paste()) as f:
            text = with_sections(f.read(),
                                 overrides['nova_api_paste_ini_overrides'])
        return self.written_paste(text)


class HelmApiPasteTest(DeployedApiPasteTest):
    """helm's pipelines (audit, no request_log) with the shipped overlay.

    The chart renders conf.paste into api-paste.ini; here its v2.1
    composites and audit filter (as of openstack-helm 0ee5ade) go over
    Nova's file, whose sections define the other filters they name, then
    the overlay. keystonemiddleware's audit filter runs for real, with
    pycadf's own Nova audit map.
    """

    def api_paste_config(self):
        paste = read_yaml(HELM_VALUES)['conf']['paste']
        [audit_map] = [str(p.locate()) for p in
                       importlib.metadata.distribution('pycadf').files
                       if p.name == 'nova_api_audit_map.conf']
        paste['filter:audit']['audit_map_file'] = audit_map
        overlay = read_yaml(os.path.join(DEPLOY, 'openstack-helm',
                                         'nova-paste.yaml'))
        with open(base.nova_api_paste()) as f:
            text = with_sections(f.read(), paste)
        text = with_sections(text, overlay['conf']['paste'])
        return self.written_paste(text)

    def test_pipeline_is_helms(self):
        with open(self.api_paste_config()) as f:
            text = f.read()
        self.assertIn('keystone = cors http_proxy_to_wsgi compute_req_id '
                      'faultwrap sizelimit authtoken audit keystonecontext '
                      'ip_pool_stamp osapi_compute_app_v21\n', text)
