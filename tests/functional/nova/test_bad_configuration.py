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

"""Bad [ip_pools] configuration stops nova-scheduler and nova-api at start."""

import fixtures
from nova.api import wsgi
from nova.scheduler import request_filter

from openstack_ext.nova import placement_hook
from openstack_ext.nova import pools
from tests.functional.nova import base


class BadConfigurationTest(base.PoolTestCase):

    hosts = ()

    def test_scheduler_does_not_start(self):
        self.scheduler_service.stop()
        for options, expected in [
                (dict(client_networks=['10.1.2.3/16=doc']),
                 ['[ip_pools] client_networks', '10.1.2.3/16=doc',
                  'host bits set']),
                (dict(client_networks=['10.1.0.0/33=doc']),
                 ['client_networks', '10.1.0.0/33=doc', 'prefix length']),
                (dict(client_networks=['10.1.0.0/16']),
                 ['client_networks', '10.1.0.0/16', 'CIDR=pool']),
                (dict(client_networks=['10.1.0.0/16=']),
                 ['client_networks', '10.1.0.0/16=', 'pool name']),
                (dict(client_networks=['10.1.0.0/16=doc',
                                       '::ffff:10.1.0.0/112=ops']),
                 ['client_networks', '10.1.0.0/16=doc', '10.1.0.0/16=ops',
                  'more than once']),
                (dict(client_networks=[], default_pool=None),
                 ['client_networks', 'default_pool']),
                (dict(default_pool='d e v'), ['default_pool', 'd e v']),
                (dict(host_selection='aggregate_metadata',
                      aggregate_metadata_key=''),
                 ['aggregate_metadata_key', "''"]),
                (dict(stamp_secret='tiny-secret'), ['stamp_secret', '16']),
                (dict(trusted_proxy_hops=0),
                 ['[ip_pools] trusted_proxy_hops = 0',
                  'enable_proxy_headers_parsing'])]:
            self.flags(group='ip_pools', **options)
            error = self.assertRaises(pools.PoolConfigError,
                                      self.start_service, 'scheduler')
            for text in expected:
                self.assertIn(text, str(error))
            self.assertNotIn('tiny-secret', str(error))
            self.reset_flags(*options, group='ip_pools')
            self.flags(group='ip_pools', **self.pool_options)
        # A Nova whose request-filter stage is not what the hook expects.
        with fixtures.MonkeyPatch(
                'nova.scheduler.request_filter.ALL_REQUEST_FILTERS',
                tuple(request_filter.ALL_REQUEST_FILTERS)):
            error = self.assertRaises(placement_hook.PlacementHookError,
                                      self.start_service, 'scheduler')
        self.assertIn('ALL_REQUEST_FILTERS is not a list', str(error))
        # The same cloud starts with the good configuration.
        self.start_service('scheduler')

    def test_api_does_not_start(self):
        for options, expected in [
                (dict(stamp_secret=None), ['[ip_pools] stamp_secret',
                                           'ip_pool_stamp']),
                (dict(trusted_proxy_hops=0), ['trusted_proxy_hops',
                                              'enable_proxy_headers_parsing']),
                (dict(client_networks=['10.1.0.0/16=doc=ops']),
                 ['client_networks', '10.1.0.0/16=doc=ops'])]:
            self.flags(group='ip_pools', **options)
            error = self.assertRaises(pools.PoolConfigError,
                                      wsgi.Loader().load_app, 'osapi_compute')
            for text in expected:
                self.assertIn(text, str(error))
            self.reset_flags(*options, group='ip_pools')
            self.flags(group='ip_pools', **self.pool_options)
        self.assertIsNotNone(wsgi.Loader().load_app('osapi_compute'))
