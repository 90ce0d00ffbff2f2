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

"""The plugin's phases, in stack.sh order, on DevStack-shaped files."""

import filecmp
import os
import re
import socket
import stat
import subprocess

import testtools

from tests.devstack import harness
from tests.devstack.harness import API_PASTE
from tests.devstack.harness import NOVA_CONF
from tests.devstack.harness import PROXY_CONF
from tests.devstack.harness import TEMPEST_CONF

FILTER = 'ClientNetworkPoolFilter'
FILTER_PATH = 'openstack_ext.nova.pool_filter.ClientNetworkPoolFilter'
ALL_FILTERS = 'nova.scheduler.filters.all_filters'
V21 = 'composite:openstack_compute_api_v21'
V21_LEGACY = 'composite:openstack_compute_api_v21_legacy_v2_compatible'
DEVSTACK_ADDRESSES = ['127.0.0.1', '::1', harness.HOST_IP, harness.HOST_IPV6]
# What the plugin names in the files; none of it may survive "clean".
OURS = re.compile(r'ip_whitelist|ip_pool_stamp|ip_pools|ClientNetworkPool|'
                  r'openstack_ext|openstack-ext')


def short_hostname():
    return subprocess.run(['hostname', '-s'], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


def pipeline(ini):
    return ini['pipeline:main']['pipeline'][0].split()


class StackUnstackCleanTest(testtools.TestCase):
    """stack (post-config twice), unstack and clean on a gate-like host."""

    @classmethod
    def setUpClass(cls):
        super(StackUnstackCleanTest, cls).setUpClass()
        cls.host = harness.Host(cls.addClassCleanup)
        cls.host.run('stack')
        cls.host.run('unstack')
        cls.host.run('clean')

    def after(self, label, relpath):
        return harness.read_ini(self.host.snapshot_file(label, relpath))

    # -- install --------------------------------------------------------

    def test_install_is_setup_develop_of_the_plugin_repository(self):
        self.assertIn('setup_develop %s' % harness.TOP, self.host.calls())
        self.assertIn('define_plugin openstack-ext', self.host.calls())

    # -- idempotency ----------------------------------------------------

    def test_second_post_config_changes_nothing(self):
        for relpath in (NOVA_CONF, API_PASTE, PROXY_CONF):
            first = self.host.snapshot_file('post-config', relpath)
            second = self.host.snapshot_file('post-config-again', relpath)
            self.assertTrue(filecmp.cmp(first, second, shallow=False),
                            relpath)

    def test_later_phases_leave_the_service_files_alone(self):
        for relpath in (NOVA_CONF, API_PASTE, PROXY_CONF):
            for label in ('services-started', 'extra', 'test-config',
                          'unstack'):
                self.assertTrue(filecmp.cmp(
                    self.host.snapshot_file('post-config-again', relpath),
                    self.host.snapshot_file(label, relpath), shallow=False),
                    '%s after %s' % (relpath, label))

    # -- nova -----------------------------------------------------------

    def test_waits_for_devstacks_background_nova_conf_edits(self):
        self.assertEqual('', self.host.races())
        nova = self.after('post-config', NOVA_CONF)
        self.assertEqual(
            {'auth_type', 'auth_url', 'username', 'region_name',
             'service_metadata_proxy'}, set(nova['neutron']))
        self.assertIn('ip_pools', nova)

    def test_scheduler_filter_enabled_and_available(self):
        section = self.after('post-config', NOVA_CONF)['filter_scheduler']
        self.assertEqual([','.join(harness.DEVSTACK_FILTERS + [FILTER])],
                         section['enabled_filters'])
        self.assertEqual([ALL_FILTERS, FILTER_PATH],
                         section['available_filters'])

    def test_ip_pools_defaults_keep_every_client_on_the_devstack_host(self):
        pools = self.after('post-config', NOVA_CONF)['ip_pools']
        secret = pools.pop('stamp_secret')
        self.assertEqual({'default_pool': [short_hostname()],
                          'host_selection': ['hostname_prefix'],
                          'aggregate_metadata_key': ['ip_pool'],
                          'trusted_proxy_hops': ['0']}, pools)
        self.assertTrue(socket.gethostname().startswith(short_hostname()))
        self.assertRegex(secret[0], r'^[0-9a-f]{64}$')

    def test_stamp_secret_is_kept_privately_for_later_runs(self):
        # Removed by clean: read it from the snapshot's nova.conf and the
        # fact that both post-config runs wrote the same (idempotency).
        secret = self.after('post-config', NOVA_CONF)['ip_pools'][
            'stamp_secret'][0]
        self.assertEqual(
            secret, self.after('post-config-again', NOVA_CONF)['ip_pools'][
                'stamp_secret'][0])
        log = self.host.text('stack.log')
        self.assertNotIn(secret, log)

    def test_proxy_header_parsing_off_with_no_trusted_hops(self):
        # DevStack's nova.conf (tls-proxy) has it on; with 0 hops it would
        # let clients pick their pool, and ip_pool_stamp refuses that.
        self.assertEqual(
            ['True'], harness.read_ini(os.path.join(
                harness.FIXTURES, 'nova.conf'))['oslo_middleware'][
                    'enable_proxy_headers_parsing'])
        self.assertEqual(
            ['False'], self.after('post-config', NOVA_CONF)[
                'oslo_middleware']['enable_proxy_headers_parsing'])

    def test_nova_api_pipelines_stamp_right_after_keystonecontext(self):
        paste = self.after('post-config', API_PASTE)
        self.assertEqual(['egg:openstack_ext#ip_pool_stamp'],
                         paste['filter:ip_pool_stamp']['use'])
        for section in (V21, V21_LEGACY):
            original = harness.read_ini(harness.nova_api_paste())[section][
                'keystone'][0].split()
            expected = list(original)
            expected.insert(original.index('keystonecontext') + 1,
                            'ip_pool_stamp')
            self.assertEqual(expected, paste[section]['keystone'][0].split())

    def test_tempest_knows_the_filter_is_enabled(self):
        tempest = self.after('test-config', TEMPEST_CONF)
        self.assertEqual(
            [','.join(harness.DEVSTACK_FILTERS + [FILTER])],
            tempest['compute-feature-enabled']['scheduler_enabled_filters'])

    # -- swift ----------------------------------------------------------

    def test_pipeline_right_after_auth_before_the_subrequest_makers(self):
        self.assertEqual(
            harness.DEVSTACK_PIPELINE.replace(
                'tempauth ', 'tempauth ip_whitelist').split(),
            pipeline(self.after('post-config', PROXY_CONF)))

    def test_whitelist_section(self):
        section = self.after('post-config', PROXY_CONF)['filter:ip_whitelist']
        addresses = ', '.join(DEVSTACK_ADDRESSES)
        self.assertEqual({'use': ['egg:openstack_ext#ip_whitelist'],
                          'deny_message': ['IP Denied'],
                          'always_allow': ['auto, ' + addresses],
                          'trusted_proxies': [addresses],
                          'deny_without_rules': ['false']}, section)

    # -- unstack, clean -------------------------------------------------

    def test_clean_uninstalls_and_forgets_the_secret(self):
        self.assertEqual('pip_uninstall openstack-ext',
                         self.host.calls()[-1])
        self.assertFalse(os.path.exists(self.host.path(harness.STATE_DIR)))

    def test_clean_takes_every_reference_out(self):
        for relpath in (NOVA_CONF, API_PASTE, PROXY_CONF):
            with open(self.host.snapshot_file('clean', relpath)) as f:
                self.assertIsNone(OURS.search(f.read()), relpath)

    def test_clean_restores_devstacks_settings(self):
        fixtures = {
            NOVA_CONF: os.path.join(harness.FIXTURES, 'nova.conf'),
            API_PASTE: harness.nova_api_paste(),
            PROXY_CONF: os.path.join(harness.FIXTURES, 'proxy-server.conf')}
        for relpath, original in fixtures.items():
            before = harness.read_ini(original)
            after = self.after('clean', relpath)
            for ini in (before, after):
                for options in ini.values():
                    for key in ('pipeline', 'keystone'):
                        if key in options:
                            options[key] = [' '.join(options[key][0].split())]
            if relpath == NOVA_CONF:
                # Written by DevStack's configure_neutron_nova, and the
                # parsing the plugin turned off (harmless without it).
                del after['neutron']
                after['oslo_middleware']['enable_proxy_headers_parsing'] = [
                    'True']
            self.assertEqual(before, after, relpath)


class SettingsTest(testtools.TestCase):
    """Settings from local.conf, and other DevStack layouts."""

    def test_local_conf_settings(self):
        host = harness.Host(self.addCleanup)
        host.run('stack',
                 OPENSTACK_EXT_NOVA_CLIENT_NETWORKS=(
                     '10.1.0.0/16=doc, 10.2.0.0/16=ops,2001:db8:1::/48=doc'),
                 OPENSTACK_EXT_NOVA_DEFAULT_POOL='none',
                 OPENSTACK_EXT_NOVA_HOST_SELECTION='aggregate_metadata',
                 OPENSTACK_EXT_NOVA_AGGREGATE_METADATA_KEY='pool',
                 OPENSTACK_EXT_NOVA_TRUSTED_PROXY_HOPS='1',
                 OPENSTACK_EXT_NOVA_STAMP_SECRET='s' * 40,
                 OPENSTACK_EXT_SWIFT_DENY_MESSAGE='You shall not pass!',
                 OPENSTACK_EXT_SWIFT_ALWAYS_ALLOW='198.51.100.0/24',
                 OPENSTACK_EXT_SWIFT_ALLOW_DEVSTACK_HOSTS='False',
                 OPENSTACK_EXT_SWIFT_TRUSTED_PROXIES='203.0.113.5',
                 OPENSTACK_EXT_SWIFT_DENY_WITHOUT_RULES='True')
        nova = host.ini(NOVA_CONF)
        self.assertEqual(
            {'client_networks': [
                '10.1.0.0/16=doc,10.2.0.0/16=ops,2001:db8:1::/48=doc'],
             'host_selection': ['aggregate_metadata'],
             'aggregate_metadata_key': ['pool'],
             'trusted_proxy_hops': ['1'],
             'stamp_secret': ['s' * 40]}, nova['ip_pools'])
        self.assertEqual(['True'], nova['oslo_middleware'][
            'enable_proxy_headers_parsing'])
        self.assertFalse(os.path.exists(host.path(harness.STATE_DIR)))
        self.assertEqual({'use': ['egg:openstack_ext#ip_whitelist'],
                          'deny_message': ['You shall not pass!'],
                          'always_allow': ['198.51.100.0/24'],
                          'trusted_proxies': ['203.0.113.5'],
                          'deny_without_rules': ['true']},
                         host.ini(PROXY_CONF)['filter:ip_whitelist'])

    def test_without_tls_proxy_no_proxy_is_trusted(self):
        host = harness.Host(self.addCleanup)
        host.run('stack', ENABLED_SERVICES=harness.GATE_SERVICES.replace(
            ',tls-proxy', ''))
        self.assertNotIn('trusted_proxies',
                         host.ini(PROXY_CONF)['filter:ip_whitelist'])

    def test_service_host_given_as_a_name_is_left_out(self):
        host = harness.Host(self.addCleanup)
        host.run('stack', SERVICE_HOST='controller.example.org',
                 HOST_IPV6='')
        self.assertEqual(['auto, 127.0.0.1, ::1, %s' % harness.HOST_IP],
                         host.ini(PROXY_CONF)['filter:ip_whitelist'][
                             'always_allow'])

    def test_s3api_and_tempauth_only_pipelines(self):
        cases = {
            # lib/swift with s3api enabled
            harness.DEVSTACK_PIPELINE.replace(
                'crossdomain authtoken keystoneauth tempauth',
                'crossdomain s3api authtoken s3token keystoneauth tempauth'):
            'tempauth',
            # lib/swift without keystone
            harness.DEVSTACK_PIPELINE.replace(
                'authtoken keystoneauth ', ''): 'tempauth',
            # keystone only, ip_whitelist already (wrongly) placed
            'catch_errors ip_whitelist proxy-logging cache tempurl '
            'authtoken keystoneauth slo dlo proxy-logging proxy-server':
            'keystoneauth',
        }
        for original, anchor in cases.items():
            host = harness.Host(self.addCleanup, pipeline=original)
            host.run('stack')
            words = pipeline(host.ini(PROXY_CONF))
            self.assertEqual(1, words.count('ip_whitelist'), words)
            self.assertEqual(anchor, words[words.index('ip_whitelist') - 1])
            self.assertEqual([w for w in original.split()
                              if w != 'ip_whitelist'],
                             [w for w in words if w != 'ip_whitelist'])

    def test_swift_only(self):
        host = harness.Host(self.addCleanup)
        host.run('stack', ENABLED_SERVICES='key,s-proxy,s-object,'
                 's-container,s-account')
        for relpath, original in ((NOVA_CONF, os.path.join(
                harness.FIXTURES, 'nova.conf')),
                (API_PASTE, harness.nova_api_paste())):
            self.assertTrue(filecmp.cmp(original, host.path(relpath),
                                        shallow=False), relpath)
        self.assertIn('ip_whitelist', pipeline(host.ini(PROXY_CONF)))

    def test_nova_only(self):
        host = harness.Host(self.addCleanup)
        host.run('stack', ENABLED_SERVICES='key,n-api,n-cpu,n-cond,n-sch,'
                 'placement-api,g-api,q-svc')
        self.assertTrue(filecmp.cmp(
            os.path.join(harness.FIXTURES, 'proxy-server.conf'),
            host.path(PROXY_CONF), shallow=False))
        self.assertIn('ip_pools', host.ini(NOVA_CONF))
        self.assertFalse(os.path.exists(host.path(TEMPEST_CONF)))

    def test_other_available_filters_are_kept(self):
        host = harness.Host(self.addCleanup, edit_nova_conf=lambda text: (
            text.replace('[filter_scheduler]\n', '[filter_scheduler]\n'
                         'available_filters = %s\n'
                         'available_filters = blazarnova.BlazarFilter\n'
                         % ALL_FILTERS)))
        host.run('stack')
        self.assertEqual(
            [ALL_FILTERS, 'blazarnova.BlazarFilter', FILTER_PATH],
            host.ini(NOVA_CONF)['filter_scheduler']['available_filters'])

    def test_restack_keeps_the_secret(self):
        host = harness.Host(self.addCleanup)
        host.run('stack')
        secret = host.ini(NOVA_CONF)['ip_pools']['stamp_secret']
        mode = os.stat(host.path(harness.STATE_DIR, 'stamp_secret')).st_mode
        self.assertEqual(0o600, stat.S_IMODE(mode))
        # unstack, then stack.sh rewrites the files from scratch
        host.run('unstack')
        fresh = harness.Host(self.addCleanup)
        for relpath in (NOVA_CONF, API_PASTE, PROXY_CONF):
            os.replace(fresh.path(relpath), host.path(relpath))
        host.run('stack')
        self.assertEqual(secret,
                         host.ini(NOVA_CONF)['ip_pools']['stamp_secret'])


class FailureTest(testtools.TestCase):
    """Bad settings stop stack.sh early, naming what is wrong."""

    def assertStops(self, message, host=None, **settings):
        host = host or harness.Host(self.addCleanup)
        result = host.run('stack', check=False, **settings)
        self.assertNotEqual(0, result.returncode)
        self.assertIn(message, result.stdout)

    def test_bad_nova_settings(self):
        self.assertStops('OPENSTACK_EXT_NOVA_HOST_SELECTION must be',
                         OPENSTACK_EXT_NOVA_HOST_SELECTION='hostname')
        self.assertStops('OPENSTACK_EXT_NOVA_CLIENT_NETWORKS item '
                         "'10.1.0.0/16:doc' is not CIDR=pool",
                         OPENSTACK_EXT_NOVA_CLIENT_NETWORKS='10.1.0.0/16:doc')
        self.assertStops('OPENSTACK_EXT_NOVA_DEFAULT_POOL=none needs',
                         OPENSTACK_EXT_NOVA_DEFAULT_POOL='none')
        self.assertStops('must be a number',
                         OPENSTACK_EXT_NOVA_TRUSTED_PROXY_HOPS='one')
        self.assertStops('at least 32 characters',
                         OPENSTACK_EXT_NOVA_STAMP_SECRET='short')

    def test_swift_pipeline_without_auth(self):
        self.assertStops(
            'no auth middleware', host=harness.Host(
                self.addCleanup,
                pipeline='catch_errors proxy-logging proxy-server'))

    def test_race_probe_catches_a_plugin_that_does_not_wait(self):
        # Negative control for test_waits_for_devstacks_background_...:
        # with async_wait doing nothing the probe reports the race.
        host = harness.Host(self.addCleanup)
        host.run('stack', FAKE_ASYNC_WAIT='noop')
        self.assertIn('RACE: %s ip_pools' % host.path(NOVA_CONF),
                      host.races())
