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

"""The shipped configuration files say what the code does."""

import configparser
import importlib.metadata
import os
import tempfile

from oslo_config import cfg
from oslo_config import generator
from oslo_middleware import http_proxy_to_wsgi
import testtools

from openstack_ext import addresses
from openstack_ext.nova import conf as pool_conf
from openstack_ext.nova import pools
from openstack_ext import opts

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
ETC = os.path.join(TOP, 'etc')


def read(*path):
    with open(os.path.join(ETC, *path)) as f:
        return f.read()


class ConfigFilesTest(testtools.TestCase):

    def test_sample_is_what_the_generator_writes(self):
        conf = cfg.ConfigOpts()
        generator.register_cli_opts(conf)
        with tempfile.TemporaryDirectory() as tmp:
            output = os.path.join(tmp, 'sample')
            conf(['--config-file', os.path.join(
                ETC, 'oslo-config-generator', 'openstack-ext-nova.conf'),
                '--output-file', output])
            generator.generate(conf)
            with open(output) as f:
                generated = f.read()
        self.assertEqual(generated, read('nova', 'nova.conf.ip-pools.sample'),
                         'regenerate with tox -e genconfig')

    def test_entry_point_lists_the_options_once(self):
        [(group, options)] = opts.list_opts()
        self.assertEqual('ip_pools', group)
        self.assertIs(pool_conf.ip_pools_opts, options)
        self.assertEqual({'client_networks', 'default_pool', 'host_selection',
                          'aggregate_metadata_key', 'trusted_proxy_hops',
                          'stamp_secret', 'exclusive_pools'},
                         {opt.name for opt in options})
        self.assertFalse(hasattr(pool_conf, 'list_opts'))

    def test_guide_example_maps_doc_ops_dev(self):
        path = os.path.join(ETC, 'nova', 'nova.conf.ip-pools-guide-example')
        conf = cfg.ConfigOpts()
        pool_conf.register_opts(conf)
        conf(['--config-file', path])
        # As nova-api's ip_pool_stamp loads it: it starts as written.
        settings = pools.load_settings(conf, require_secret=True)
        conf.register_opts(http_proxy_to_wsgi.OPTS, group='oslo_middleware')
        pools.check_proxy_headers(
            settings, conf.oslo_middleware.enable_proxy_headers_parsing)
        self.assertTrue(conf.oslo_middleware.enable_proxy_headers_parsing)
        for client, pool in [('10.1.2.3', 'doc'), ('10.2.0.1', 'ops'),
                             ('10.10.0.1', 'dev'), ('192.0.2.1', 'dev')]:
            self.assertEqual(pool, settings.pool_map.pool_for(
                addresses.parse_address(client)).pool, client)
        parser = configparser.ConfigParser(strict=False)
        parser.read(path)
        scheduler = parser['filter_scheduler']
        self.assertIn('ClientNetworkPoolFilter',
                      scheduler['enabled_filters'].split(','))
        text = read('nova', 'nova.conf.ip-pools-guide-example')
        for line in [
                'available_filters = nova.scheduler.filters.all_filters',
                'available_filters = openstack_ext.nova.pool_filter.'
                'ClientNetworkPoolFilter']:
            self.assertIn('\n%s\n' % line, text)

    def test_api_paste_snippet_adds_only_the_stamp_to_novas_pipelines(self):
        snippet = configparser.ConfigParser(interpolation=None)
        snippet.read(os.path.join(ETC, 'nova', 'api-paste-ip-pool-stamp.ini'))
        nova = configparser.ConfigParser(interpolation=None)
        [path] = [p for p in importlib.metadata.distribution('nova').files
                  if p.name == 'api-paste.ini']
        nova.read(str(path.locate()))
        self.assertEqual('egg:openstack-ext#ip_pool_stamp',
                         snippet['filter:ip_pool_stamp']['use'])
        composites = [s for s in nova.sections()
                      if nova[s].get('use', '').endswith(
                          'pipeline_factory_v21')]
        self.assertEqual(2, len(composites))
        for section in composites:
            theirs = nova[section]['keystone'].split()
            ours = snippet[section]['keystone'].split()
            theirs.insert(theirs.index('keystonecontext') + 1,
                          'ip_pool_stamp')
            self.assertEqual(theirs, ours, section)
        [entry_point] = importlib.metadata.entry_points(
            group='paste.filter_factory', name='ip_pool_stamp')
        self.assertEqual('openstack_ext.nova.pool_stamp:filter_factory',
                         entry_point.value)
