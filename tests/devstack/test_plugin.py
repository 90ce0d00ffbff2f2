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

"""The plugin's phases, in stack.sh order, inside DevStack's own library."""

import filecmp
import os
import re
import socket
import stat
import subprocess
import sys

import fixtures
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
# Swift middleware that must be left of ip_whitelist (auth, and what
# rewrites or authorizes before it).
BEFORE = ('tempurl', 's3api', 'tempauth', 'keystoneauth')
CLI = os.path.join(os.path.dirname(sys.executable), 'openstack-ext')


def short_hostname():
    return subprocess.run(['hostname', '-s'], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()


def pipeline(ini):
    return ini['pipeline:main']['pipeline'][0].split()


def check_proxy_pipeline(path):
    return subprocess.run([CLI, 'check-proxy-pipeline', path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120)


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

    # -- DevStack itself ------------------------------------------------

    def test_devstack_wrote_the_files_the_plugin_edits(self):
        # Before the plugin's phases: lib/nova's create_nova_conf, its
        # copy of Nova's api-paste.ini, lib/swift's configure_swift.
        nova = self.after('configured', NOVA_CONF)
        self.assertEqual(['ComputeFilter,ComputeCapabilitiesFilter,'
                          'ImagePropertiesFilter,'
                          'ServerGroupAntiAffinityFilter,'
                          'ServerGroupAffinityFilter,SameHostFilter,'
                          'DifferentHostFilter'],
                         nova['filter_scheduler']['enabled_filters'])
        self.assertTrue(filecmp.cmp(harness.nova_api_paste(),
                                    self.host.snapshot_file('configured',
                                                            API_PASTE),
                                    shallow=False))
        self.assertIn('crossdomain authtoken keystoneauth tempauth  formpost '
                      'staticweb', self.after('configured', PROXY_CONF)[
                          'pipeline:main']['pipeline'][0])
        self.assertNotIn('ip_pools', nova)

    def test_install_is_setup_develop_of_the_plugin_repository(self):
        self.assertIn('setup_develop %s' % self.host.path(
            'opt/stack/openstack-ext'), self.host.calls())

    # -- idempotency ----------------------------------------------------

    def test_second_post_config_changes_nothing(self):
        for relpath in (NOVA_CONF, API_PASTE, PROXY_CONF):
            first = self.host.snapshot_file('post-config', relpath)
            second = self.host.snapshot_file('post-config-again', relpath)
            self.assertTrue(filecmp.cmp(first, second, shallow=False),
                            relpath)

    def test_later_phases_leave_the_service_files_alone(self):
        labels = ('merged', 'services-started', 'extra', 'test-config',
                  'unstack')
        for relpath in (API_PASTE, PROXY_CONF):
            for label in labels:
                self.assertTrue(filecmp.cmp(
                    self.host.snapshot_file('post-config-again', relpath),
                    self.host.snapshot_file(label, relpath), shallow=False),
                    '%s after %s' % (relpath, label))
        # stack.sh itself writes [key_manager] once configure_neutron_nova
        # is collected.
        for label in labels[2:]:
            self.assertTrue(filecmp.cmp(
                self.host.snapshot_file('services-started', NOVA_CONF),
                self.host.snapshot_file(label, NOVA_CONF), shallow=False),
                label)

    # -- nova -----------------------------------------------------------

    def test_waits_for_devstacks_background_nova_conf_edits(self):
        self.assertEqual('', self.host.races())
        nova = self.after('post-config', NOVA_CONF)
        # lib/neutron's configure_neutron_nova, and the plugin's edits.
        self.assertEqual(['RegionOne'], nova['neutron']['region_name'])
        self.assertEqual(['password'], nova['neutron']['auth_type'])
        self.assertIn('ip_pools', nova)

    def test_scheduler_filter_enabled_and_available(self):
        devstack = self.after('configured', NOVA_CONF)['filter_scheduler']
        section = self.after('post-config', NOVA_CONF)['filter_scheduler']
        self.assertEqual([devstack['enabled_filters'][0] + ',' + FILTER],
                         section['enabled_filters'])
        self.assertNotIn('available_filters', devstack)
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

    def test_stamp_secret_is_kept_out_of_the_stack_log(self):
        secret = self.after('post-config', NOVA_CONF)['ip_pools'][
            'stamp_secret'][0]
        self.assertEqual(
            secret, self.after('post-config-again', NOVA_CONF)['ip_pools'][
                'stamp_secret'][0])
        log = self.host.text('stack.log')
        # The log is DevStack's xtrace of the plugin: the other values are
        # in it.
        self.assertIn('aggregate_metadata_key ip_pool', log)
        self.assertNotIn(secret, log)

    def test_proxy_header_parsing_off_with_no_trusted_hops(self):
        # DevStack's nova.conf (tls-proxy) has it on; with 0 hops it would
        # let clients pick their pool, and ip_pool_stamp refuses that.
        self.assertEqual(['True'], self.after('configured', NOVA_CONF)[
            'oslo_middleware']['enable_proxy_headers_parsing'])
        self.assertEqual(['False'], self.after('post-config', NOVA_CONF)[
            'oslo_middleware']['enable_proxy_headers_parsing'])

    def test_nova_api_pipelines_stamp_right_after_keystonecontext(self):
        paste = self.after('post-config', API_PASTE)
        self.assertEqual(['egg:openstack_ext#ip_pool_stamp'],
                         paste['filter:ip_pool_stamp']['use'])
        for section in (V21, V21_LEGACY):
            original = self.after('configured', API_PASTE)[section][
                'keystone'][0].split()
            expected = list(original)
            expected.insert(original.index('keystonecontext') + 1,
                            'ip_pool_stamp')
            self.assertEqual(expected, paste[section]['keystone'][0].split())

    def test_tempest_knows_the_filter_is_enabled(self):
        # lib/tempest copies NOVA_FILTERS, which the plugin extended.
        tempest = self.after('test-config', TEMPEST_CONF)
        self.assertEqual(
            self.after('post-config', NOVA_CONF)['filter_scheduler'][
                'enabled_filters'],
            tempest['compute-feature-enabled']['scheduler_enabled_filters'])

    # -- swift ----------------------------------------------------------

    def test_pipeline_right_after_auth_before_the_subrequest_makers(self):
        self.assertEqual(
            'catch_errors gatekeeper healthcheck proxy-logging cache '
            'listing_formats container_sync tempurl ratelimit crossdomain '
            'authtoken keystoneauth tempauth ip_whitelist bulk formpost '
            'staticweb copy container-quotas account-quotas slo dlo '
            'versioned_writes symlink proxy-logging proxy-server'.split(),
            pipeline(self.after('post-config', PROXY_CONF)))

    def test_produced_pipeline_passes_check_proxy_pipeline(self):
        # The plugin and the package's checker agree: no error, no warning.
        result = check_proxy_pipeline(
            self.host.snapshot_file('post-config-again', PROXY_CONF))
        self.assertEqual(0, result.returncode, result.stdout)
        self.assertNotIn('WARNING', result.stdout)
        self.assertIn('ip_whitelist is placed and configured correctly',
                      result.stdout)
        # Positive control: DevStack's file before the plugin fails it.
        result = check_proxy_pipeline(
            self.host.snapshot_file('configured', PROXY_CONF))
        self.assertEqual(1, result.returncode, result.stdout)

    def test_whitelist_section(self):
        section = self.after('post-config', PROXY_CONF)['filter:ip_whitelist']
        addresses = ', '.join(DEVSTACK_ADDRESSES)
        self.assertEqual({'use': ['egg:openstack_ext#ip_whitelist'],
                          'deny_message': ['IP Denied'],
                          'always_allow': ['auto, ' + addresses],
                          'trusted_proxies': [addresses],
                          'deny_without_rules': ['false']}, section)

    # -- the documentation ---------------------------------------------

    def test_readme_shows_what_a_run_produces(self):
        with open(os.path.join(harness.TOP, 'devstack', 'README.md')) as f:
            text = f.read()
        block = text.split('## What it produces', 1)[1].split(
            '```ini\n', 1)[1].split('```', 1)[0]
        files = {'$SWIFT_CONF_DIR/proxy-server.conf': PROXY_CONF,
                 '$NOVA_CONF': NOVA_CONF, '$NOVA_API_PASTE_INI': API_PASTE,
                 '$TEMPEST_CONFIG': TEMPEST_CONF}
        shown = {}
        for line in block.splitlines():
            if line.startswith('# '):
                relpath = files[line[2:]]
            elif line.startswith('['):
                options = shown.setdefault((relpath, line[1:-1]), {})
            elif line:
                key, _sep, value = line.partition(' = ')
                options.setdefault(key, []).append(value)
        self.assertEqual(set(files.values()), {r for r, _s in shown})
        for (relpath, section), options in shown.items():
            produced = self.after('test-config', relpath)[section]
            for key, values in options.items():
                if values == ['<64 hex digits, generated once>']:
                    self.assertRegex(produced[key][0], '^[0-9a-f]{64}$')
                    continue
                values = [short_hostname() if v == '<hostname -s>' else v
                          for v in values]
                self.assertEqual(values, produced[key],
                                 '%s [%s] %s' % (relpath, section, key))

    # -- unstack, clean -------------------------------------------------

    def test_clean_uninstalls_and_forgets_the_secret(self):
        self.assertIn('pip_uninstall openstack-ext', self.host.calls())
        self.assertFalse(os.path.exists(self.host.path(harness.STATE_DIR)))

    def test_clean_takes_every_reference_out(self):
        for relpath in (NOVA_CONF, API_PASTE, PROXY_CONF):
            with open(self.host.snapshot_file('clean', relpath)) as f:
                self.assertIsNone(OURS.search(f.read()), relpath)

    def test_clean_restores_devstacks_settings(self):
        for relpath in (NOVA_CONF, API_PASTE, PROXY_CONF):
            before = self.after('configured', relpath)
            after = self.after('clean', relpath)
            for ini in (before, after):
                for options in ini.values():
                    for key in ('pipeline', 'keystone'):
                        if key in options:
                            # Same middleware (bulk stays after auth,
                            # where ip_whitelist wanted it).
                            options[key] = sorted(options[key][0].split())
            if relpath == NOVA_CONF:
                # Written by DevStack after the plugin's post-config, and
                # the parsing the plugin turned off (harmless without it).
                for section, keys in (
                        ('neutron', ('auth_type', 'auth_url', 'username',
                                     'password', 'user_domain_name',
                                     'project_name', 'project_domain_name',
                                     'region_name', 'cafile', 'interface')),
                        ('key_manager', ('fixed_key',)),
                        ('DEFAULT', ('vif_plugging_is_fatal',
                                     'vif_plugging_timeout'))):
                    for key in keys:
                        after[section].pop(key, None)
                after['oslo_middleware']['enable_proxy_headers_parsing'] = [
                    'True']
            for section in sorted(set(before) | set(after)):
                self.assertEqual(before.get(section), after.get(section),
                                 '%s [%s]' % (relpath, section))


class SettingsTest(testtools.TestCase):
    """Settings from local.conf, and other DevStack layouts."""

    def test_local_conf_settings(self):
        host = harness.Host(
            self.addCleanup,
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
            OPENSTACK_EXT_SWIFT_DENY_WITHOUT_RULES='yes')
        host.run('stack')
        nova = host.ini(NOVA_CONF, 'post-config')
        self.assertEqual(
            {'client_networks': [
                '10.1.0.0/16=doc, 10.2.0.0/16=ops,2001:db8:1::/48=doc'],
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

    def test_local_conf_post_config_sections_win(self):
        # stack.sh merges local.conf's post-config sections after the
        # plugins' post-config.
        host = harness.Host(self.addCleanup, sections=(
            '[[post-config|$SWIFT_CONF_DIR/proxy-server.conf]]\n'
            '[filter:ip_whitelist]\ndeny_message = Set in local.conf\n'
            '[[post-config|$NOVA_CONF]]\n[ip_pools]\ndefault_pool = other\n'))
        host.run('stack')
        self.assertEqual(['IP Denied'], host.ini(PROXY_CONF, 'post-config')[
            'filter:ip_whitelist']['deny_message'])
        self.assertEqual(['Set in local.conf'], host.ini(PROXY_CONF)[
            'filter:ip_whitelist']['deny_message'])
        self.assertEqual(['other'],
                         host.ini(NOVA_CONF)['ip_pools']['default_pool'])

    def test_without_tls_proxy_no_proxy_is_trusted(self):
        host = harness.Host(self.addCleanup, lines=[
            'disable_service tls-proxy'])
        host.run('stack')
        self.assertNotIn('trusted_proxies',
                         host.ini(PROXY_CONF)['filter:ip_whitelist'])

    def test_service_host_given_as_a_name_is_left_out(self):
        host = harness.Host(self.addCleanup,
                            SERVICE_HOST='controller.example.org')
        host.run('stack')
        self.assertEqual(['auto, 127.0.0.1, ::1, %s, %s' % (
            harness.HOST_IP, harness.HOST_IPV6)],
                         host.ini(PROXY_CONF)['filter:ip_whitelist'][
                             'always_allow'])

    def test_other_devstack_pipelines(self):
        cases = {
            # lib/swift with s3api enabled
            'enable_service s3api': 'tempauth',
            # lib/swift without keystone
            'disable_service key': 'tempauth',
            # ip_whitelist (wrongly) put before auth by the user
            'SWIFT_EXTRAS_MIDDLEWARE_NO_AUTH="ip_whitelist crossdomain"':
            'tempauth',
        }
        for line, anchor in cases.items():
            host = harness.Host(self.addCleanup, lines=[line])
            host.run('stack')
            original = pipeline(host.ini(PROXY_CONF, 'configured'))
            words = pipeline(host.ini(PROXY_CONF))
            self.assertEqual(1, words.count('ip_whitelist'), words)
            self.assertEqual(anchor, words[words.index('ip_whitelist') - 1])
            self.assertEqual(sorted(w for w in original
                                    if w != 'ip_whitelist'),
                             sorted(w for w in words if w != 'ip_whitelist'))
            result = check_proxy_pipeline(host.path(PROXY_CONF))
            self.assertEqual(0, result.returncode, result.stdout)
            self.assertNotIn('WARNING', result.stdout)
            if 's3api' in line:
                self.assertLess(words.index('s3api'),
                                words.index('ip_whitelist'))

    def test_swift_only(self):
        host = harness.Host(self.addCleanup,
                            ENABLED_SERVICES=harness.SWIFT_SERVICES)
        host.run('stack')
        self.assertFalse(os.path.exists(host.path(NOVA_CONF)))
        self.assertIn('ip_whitelist', pipeline(host.ini(PROXY_CONF)))

    def test_nova_only(self):
        host = harness.Host(self.addCleanup, ENABLED_SERVICES=(
            'key,mysql,rabbit,n-api,n-cpu,n-cond,n-sch,placement-api,g-api,'
            'q-svc'))
        host.run('stack')
        self.assertFalse(os.path.exists(host.path(PROXY_CONF)))
        self.assertIn('ip_pools', host.ini(NOVA_CONF))
        self.assertFalse(os.path.exists(host.path(TEMPEST_CONF)))

    def test_devstack_service_names(self):
        # DevStack's "swift" shorthand enables every s-* service; a
        # disable_service after it wins (DISABLED_SERVICES).
        host = harness.Host(self.addCleanup, ENABLED_SERVICES=(
            'key,mysql,rabbit,n-api,n-cond,n-sch,placement-api,swift'))
        host.run('stack')
        self.assertIn('ip_whitelist', pipeline(host.ini(PROXY_CONF)))
        self.assertIn('ip_pools', host.ini(NOVA_CONF))
        host = harness.Host(self.addCleanup, lines=[
            'disable_service s-proxy n-sch'])
        host.run('stack')
        self.assertNotIn('ip_whitelist', host.text(PROXY_CONF))
        nova = host.ini(NOVA_CONF)
        self.assertIn('ip_pools', nova)  # n-api still reads it
        self.assertNotIn(FILTER, nova['filter_scheduler']['enabled_filters'][
            0])

    def test_other_available_filters_are_kept(self):
        # Another plugin, before this one, made its own filter available
        # (as Blazar's does).
        host = harness.Host(self.addCleanup, lines=[
            'enable_plugin other-filter https://example.org/other-filter',
            'enable_plugin openstack-ext %s' % harness.PLUGIN_URL])
        other = host.path('opt/stack/other-filter/devstack')
        os.makedirs(other)
        with open(os.path.join(other, 'plugin.sh'), 'w') as f:
            f.write('if [[ "$1 $2" == "stack post-config" ]]; then\n'
                    '    async_wait configure_neutron_nova\n'
                    '    if [[ -z $(iniget $NOVA_CONF filter_scheduler'
                    ' available_filters) ]]; then\n'
                    '        iniset $NOVA_CONF filter_scheduler'
                    ' available_filters %s\n'
                    '        iniadd $NOVA_CONF filter_scheduler'
                    ' available_filters blazarnova.BlazarFilter\n'
                    '    fi\nfi\n' % ALL_FILTERS)
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
        host.run('unstack')
        os.rename(host.path('snapshots'), host.path('first-snapshots'))
        host.run('stack')
        # DevStack wrote nova.conf anew, and the plugin the same secret.
        self.assertNotIn('ip_pools', host.ini(NOVA_CONF, 'configured'))
        self.assertEqual(secret,
                         host.ini(NOVA_CONF)['ip_pools']['stamp_secret'])

    def test_devstack_parallel_false(self):
        # configure_neutron_nova then runs before post-config, and the
        # plugin's async_wait finds nothing to wait for.
        host = harness.Host(self.addCleanup, DEVSTACK_PARALLEL='False')
        host.run('stack')
        self.assertEqual('', host.races())
        nova = host.ini(NOVA_CONF)
        self.assertEqual(['RegionOne'], nova['neutron']['region_name'])
        self.assertIn(FILTER, nova['filter_scheduler']['enabled_filters'][0])


class FailureTest(testtools.TestCase):
    """Bad settings stop stack.sh early, naming what is wrong."""

    def assertStops(self, messages, lines=(), **settings):
        host = harness.Host(self.addCleanup, lines=lines, **dict(
            {'ENABLED_SERVICES': harness.SWIFT_SERVICES
             if any('SWIFT' in k for k in settings)
             else harness.NOVA_SERVICES}, **settings))
        result = host.run('stack', check=False)
        self.assertNotEqual(0, result.returncode)
        for message in ([messages] if isinstance(messages, str)
                        else messages):
            self.assertIn(message, result.stdout)
        # DevStack's die, before any service starts.
        self.assertIn('[ERROR]', result.stdout)
        self.assertNotIn('start_swift', host.calls())

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

    def test_booleans_devstack_does_not_know(self):
        # DevStack's trueorfalse reads "on" as the default: stop instead
        # of silently leaving containers without rules open.
        self.assertStops("OPENSTACK_EXT_SWIFT_DENY_WITHOUT_RULES='on' is not "
                         "a boolean",
                         OPENSTACK_EXT_SWIFT_DENY_WITHOUT_RULES='on')
        self.assertStops("OPENSTACK_EXT_NOVA_STAMP='enabled' is not a boolean",
                         OPENSTACK_EXT_NOVA_STAMP='enabled')

    def test_what_the_package_refuses_stops_the_stack(self):
        # The package's own check decides; the plugin passes on its words.
        self.assertStops(
            ('openstack-ext check-proxy-pipeline refuses', 'always_allow',
             '10.1.2.3/16'), OPENSTACK_EXT_SWIFT_ALWAYS_ALLOW='10.1.2.3/16')

    def test_race_probe_catches_a_plugin_that_does_not_wait(self):
        # Negative control for test_waits_for_devstacks_background_...:
        # with the plugin's async_wait doing nothing the probe reports the
        # race.
        host = harness.Host(self.addCleanup)
        host.run('stack', PROBE_ASYNC_WAIT='noop')
        self.assertIn('RACE: %s ip_pools' % host.path(NOVA_CONF),
                      host.races())


class FindingDevStackTest(testtools.TestCase):
    """Without DevStack the tests fail, saying how to provide it."""

    def test_no_devstack_anywhere(self):
        empty = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.EnvironmentVariable(
            'DEVSTACK_DIR', os.path.join(empty, 'nowhere')))
        self.useFixture(fixtures.MonkeyPatch(
            'tests.devstack.harness.TOP', os.path.join(empty, 'repo')))
        self.useFixture(fixtures.MonkeyPatch(
            'os.path.expanduser', lambda path: path.replace('~', empty)))
        self.useFixture(fixtures.MonkeyPatch(
            'tests.devstack.harness._clone', lambda name: None))
        if os.path.exists('/opt/stack/devstack/stack.sh'):
            self.skipTest('a gate checkout of DevStack is here')
        error = self.assertRaises(harness.SourceMissing, harness.devstack_dir)
        self.assertIn('Set DEVSTACK_DIR', str(error))

    def test_devstack_dir_wins(self):
        found = harness.devstack_dir()
        self.useFixture(fixtures.EnvironmentVariable('DEVSTACK_DIR', found))
        self.assertEqual(found, harness.devstack_dir())
        self.assertTrue(os.path.isfile(os.path.join(found, 'functions')))
