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

"""check-proxy-pipeline against real proxy-server.conf files."""

import os
import re
from unittest import mock

import fixtures

from tests.unit.cmd import base

# The order of ip_whitelist's module docstring, with tempauth.
GOOD = ('catch_errors gatekeeper healthcheck proxy-logging cache '
        'listing_formats tempurl ratelimit s3api tempauth ip_whitelist bulk '
        'formpost staticweb copy container-quotas account-quotas slo dlo '
        'versioned_writes symlink proxy-logging proxy-server')
# Sections named as in Swift's proxy-server.conf-sample.
SECTIONS = {'cache': 'memcache', 'proxy-logging': 'proxy_logging',
            'container-quotas': 'container_quotas',
            'account-quotas': 'account_quotas'}
OURS = '[filter:ip_whitelist]\nuse = egg:openstack_ext#ip_whitelist\n'


def proxy_conf(pipeline, ours=OURS, options=''):
    """A proxy-server.conf with a section for every filter it lists."""
    parts = ['[DEFAULT]\nbind_port = 8080\n',
             '[pipeline:main]\npipeline = %s\n' % pipeline,
             '[app:proxy-server]\nuse = egg:swift#proxy\n',
             ours + options]
    for name in sorted(set(pipeline.split()) - {'ip_whitelist',
                                                'proxy-server', 'wl'}):
        parts.append('[filter:%s]\nuse = egg:swift#%s\n'
                     % (name, SECTIONS.get(name, name)))
    return '\n'.join(parts)


class CheckProxyPipelineTest(base.CommandTestCase):

    def check(self, pipeline, *argv, **kwargs):
        path = self.write('proxy-server.conf', proxy_conf(pipeline, **kwargs))
        return self.run_cli('check-proxy-pipeline', path, *argv)

    def fixed_line(self, output):
        match = re.search(r'^    pipeline = (.*)$', output, re.MULTILINE)
        self.assertIsNotNone(match, output)
        return match.group(1)

    def assertFixWorks(self, output, **kwargs):
        """The printed pipeline line passes the check itself."""
        fixed = self.fixed_line(output)
        self.assertOk(self.check(fixed, **kwargs))
        return fixed

    def test_correct_pipeline(self):
        output = self.assertOk(self.check(GOOD, options='deny_message = No'))
        self.assertIn('[filter:ip_whitelist], position 11 of 23', output)
        self.assertIn("deny_message        'No'", output)
        self.assertIn('always_allow        auto -> 127.0.0.1/32', output)
        self.assertNotIn('Fix:', output)

    def test_keystone_pipeline_from_the_module_docstring(self):
        pipeline = GOOD.replace('tempauth', 'authtoken keystoneauth')
        ours = OURS + '\n[filter:authtoken]\npaste.filter_factory = ' \
            'keystonemiddleware.auth_token:filter_factory\n'
        self.assertOk(self.check(pipeline.replace(' authtoken', ''),
                                 ours=ours.replace('authtoken', 'x')))

    def test_auth_after_the_filter(self):
        output = self.assertProblems(
            self.check(GOOD.replace('tempauth ip_whitelist',
                                    'ip_whitelist tempauth')),
            'ERROR: tempauth must come before ip_whitelist in the pipeline, '
            'otherwise the whitelist can be bypassed', 'FAILED: 1 error')
        self.assertEqual(GOOD,
                         self.assertFixWorks(output))

    def test_guide_2013_placement_before_auth_and_tempurl(self):
        output = self.assertProblems(
            self.check('catch_errors healthcheck cache ratelimit ip_whitelist '
                       'tempurl tempauth proxy-logging proxy-server'),
            'tempurl must come before', 'tempauth must come before',
            # Not listed, the proxy inserts copy, dlo and versioned_writes
            # after the last proxy-logging: right of ip_whitelist.
            'which the proxy runs as')
        self.assertEqual('catch_errors healthcheck cache ratelimit tempurl '
                         'tempauth ip_whitelist proxy-logging proxy-server',
                         self.assertFixWorks(output))

    def test_filter_missing(self):
        output = self.assertProblems(
            self.check(GOOD.replace(' ip_whitelist', '')),
            'ERROR: ip_whitelist is not in the pipeline: no container is '
            'protected; [filter:ip_whitelist] defines it but the pipeline '
            'does not list ip_whitelist')
        self.assertEqual(GOOD,
                         self.assertFixWorks(output))

    def test_filter_missing_and_undefined(self):
        output = self.assertProblems(
            self.check('catch_errors cache tempauth copy proxy-server',
                       ours=''),
            'ip_whitelist is not in the pipeline')
        self.assertIn('and add the section\n    [filter:ip_whitelist]\n'
                      '    use = egg:openstack_ext#ip_whitelist', output)
        self.assertEqual('catch_errors cache tempauth ip_whitelist copy '
                         'proxy-server', self.fixed_line(output))

    def test_filter_after_copy_and_slo(self):
        output = self.assertProblems(
            self.check(GOOD.replace(' ip_whitelist', '').replace(
                'slo', 'slo ip_whitelist')),
            'WARNING: bulk should come after ip_whitelist',
            'WARNING: copy should come after ip_whitelist',
            'ERROR: slo must come after ip_whitelist',
            'FAILED: 1 error and 4 warnings')
        self.assertEqual(GOOD,
                         self.assertFixWorks(output))

    def test_allow_warnings(self):
        status, output = self.check(
            GOOD.replace(' ip_whitelist', '').replace('copy', 'copy '
                                                      'ip_whitelist'),
            '--allow-warnings')
        self.assertEqual(0, status, output)
        self.assertIn('OK with 4 warnings (--allow-warnings)', output)
        # An error is never allowed: slo left of the filter.
        status, output = self.check(
            GOOD.replace(' ip_whitelist', '').replace('slo', 'slo '
                                                      'ip_whitelist'),
            '--allow-warnings')
        self.assertEqual(1, status, output)

    def test_filters_the_proxy_inserts_left_of_the_filter(self):
        output = self.assertProblems(
            self.check('cache tempauth ip_whitelist proxy-server'),
            'WARNING: copy should come after ip_whitelist',
            'the proxy inserts copy there because the pipeline does not '
            'list it', 'WARNING: dlo', 'WARNING: versioned_writes')
        self.assertIn('+copy +dlo +versioned_writes ip_whitelist', output)
        self.assertIn('[filter:copy]\n    use = egg:swift#copy', output)
        self.assertEqual('cache tempauth ip_whitelist copy proxy-server',
                         self.assertFixWorks(output))

    def test_cache_after_the_filter(self):
        output = self.assertProblems(
            self.check(GOOD.replace(' cache', '').replace(
                'tempauth', 'tempauth cache').replace(
                    'cache ip_whitelist', 'ip_whitelist cache')),
            'WARNING: cache (egg:swift#memcache) should come before '
            'ip_whitelist: otherwise every request reads the rules')
        self.assertIn('tempauth cache ip_whitelist', self.fixed_line(output))

    def test_bad_option(self):
        self.assertProblems(
            self.check(GOOD, options='always_allow = auto, 10.1.2.3/16\n'),
            "ERROR: ip_whitelist: invalid always_allow value: '10.1.2.3/16' "
            "has host bits set; the network is 10.1.0.0/16: the proxy "
            "refuses to start")

    def test_cache_missing(self):
        output = self.assertProblems(
            self.check(GOOD.replace(' cache', '')),
            'should come before ip_whitelist and is not in the pipeline')
        self.assertIn('Fix: add cache (use = egg:swift#memcache) before '
                      'ip_whitelist.', output)

    def test_rules_cache_time(self):
        output = self.assertOk(self.check(GOOD))
        self.assertIn('rules_cache_time    0 s (rules read with every '
                      'request)', output)
        output = self.assertOk(self.check(
            GOOD, options='rules_cache_time = 2.5\n'))
        self.assertIn('rules_cache_time    2.5 s (rules kept per process',
                      output)
        self.assertProblems(
            self.check(GOOD, options='rules_cache_time = -1\n'),
            "ERROR: ip_whitelist: invalid rules_cache_time value: '-1' "
            "(seconds, 0 or more): the proxy refuses to start")

    def test_misspelt_and_non_boolean_options(self):
        self.assertProblems(
            self.check(GOOD, options='trusted_proxy = 192.0.2.1\n'
                       'deny_without_rules = maybe\nlog_level = DEBUG\n'),
            'unknown option trusted_proxy = 192.0.2.1 in the ip_whitelist '
            'section: it is ignored; did you mean trusted_proxies?',
            'deny_without_rules = maybe is not a boolean: it is read as '
            'false', 'FAILED: 2 warnings')

    def test_any_section_name_and_explicit_factory(self):
        ours = ('[filter:wl]\npaste.filter_factory = '
                'openstack_ext.swift.ip_whitelist:filter_factory\n'
                'deny_without_rules = yes\ntrusted_proxies = 192.0.2.10\n')
        output = self.assertOk(self.check(
            GOOD.replace('ip_whitelist', 'wl'), ours=ours))
        self.assertIn('[filter:wl], position 11', output)
        self.assertIn('trusted_proxies     192.0.2.10/32', output)
        self.assertIn('deny_without_rules  true', output)

    def test_listed_twice(self):
        self.assertProblems(
            self.check(GOOD.replace('slo', 'slo ip_whitelist')),
            'ip_whitelist is listed 2 times')

    def test_guide_2013_module(self):
        ours = ('[filter:ip_whitelist]\npaste.filter_factory = '
                'swift.common.middleware.ip_whitelist:filter_factory\n')
        self.assertProblems(
            self.check(GOOD, ours=ours),
            'the proxy cannot load this pipeline',
            'This is the 2013 guide\'s module. Replace its '
            'paste.filter_factory line with "use = egg:openstack_ext'
            '#ip_whitelist".')

    def test_missing_section(self):
        path = self.write('proxy-server.conf', proxy_conf(GOOD).replace(
            '[filter:slo]', '[filter:not-slo]'))
        self.assertProblems(
            self.run_cli('check-proxy-pipeline', path),
            "No section 'slo' (prefixed by 'filter') found")

    def test_missing_file(self):
        self.assertProblems(
            self.run_cli('check-proxy-pipeline',
                         os.path.join(self.dir, 'nope.conf')),
            'no such file or directory')

    def test_conf_d_directory(self):
        conf_d = os.path.join(self.dir, 'proxy-server.conf.d')
        os.mkdir(conf_d)
        text = proxy_conf(GOOD)
        head, tail = text.split('[app:proxy-server]')
        with open(os.path.join(conf_d, '00.conf'), 'w') as f:
            f.write(head)
        with open(os.path.join(conf_d, '10.conf'), 'w') as f:
            f.write('[app:proxy-server]' + tail)
        self.assertOk(self.run_cli('check-proxy-pipeline', conf_d))

    def test_pipeline_not_ending_in_the_proxy(self):
        path = self.write('proxy-server.conf', proxy_conf(GOOD).replace(
            'egg:swift#proxy\n', 'egg:swift#account\n'))
        self.assertProblems(self.run_cli('check-proxy-pipeline', path),
                            "not in Swift's proxy app")


class PrintFixedPipelineTest(base.CommandTestCase):
    """--print-fixed-pipeline: the placement the DevStack plugin writes."""

    def fixed(self, pipeline):
        path = self.write('proxy-server.conf', proxy_conf(pipeline))
        return self.run_cli('check-proxy-pipeline', '--print-fixed-pipeline',
                            path)

    def test_devstack_pipeline(self):
        # lib/swift's pipeline (keystone left out: no keystonemiddleware
        # section here), with the filter section but not in the pipeline.
        status, output = self.fixed(
            'catch_errors gatekeeper healthcheck proxy-logging cache '
            'listing_formats container_sync bulk tempurl ratelimit '
            'crossdomain tempauth formpost staticweb copy container-quotas '
            'account-quotas slo dlo versioned_writes symlink proxy-logging '
            'proxy-server')
        self.assertEqual((0, 'catch_errors gatekeeper healthcheck '
                          'proxy-logging cache listing_formats container_sync '
                          'tempurl ratelimit crossdomain tempauth '
                          'ip_whitelist bulk formpost staticweb copy '
                          'container-quotas '
                          'account-quotas slo dlo versioned_writes symlink '
                          'proxy-logging proxy-server\n'), (status, output))
        # What it prints passes the check with no warning.
        self.assertOk(self.run_cli('check-proxy-pipeline', self.write(
            'fixed.conf', proxy_conf(output.strip()))))

    def test_correct_pipeline_is_kept(self):
        self.assertEqual((0, GOOD + '\n'), self.fixed(GOOD))

    def test_unloadable_file(self):
        status, output = self.run_cli(
            'check-proxy-pipeline', '--print-fixed-pipeline',
            os.path.join(self.dir, 'missing.conf'))
        self.assertEqual(1, status)
        self.assertIn('ERROR: the proxy cannot load this pipeline', output)


class DocumentedPipelineTest(base.CommandTestCase):
    """The middleware's documented example follows the package's rules."""

    def test_module_docstring_example_passes(self):
        from openstack_ext.swift import ip_whitelist

        match = re.search(r'pipeline = (.*?proxy-server)\n',
                          ip_whitelist.__doc__, re.DOTALL)
        self.assertIsNotNone(match)
        pipeline = ' '.join(match.group(1).split())
        # keystonemiddleware's authtoken, as in a keystone deployment.
        ours = OURS + '\n[filter:authtoken]\npaste.filter_factory = ' \
            'keystonemiddleware.auth_token:filter_factory\n'
        path = self.write('proxy-server.conf', proxy_conf(
            pipeline.replace(' authtoken', ''), ours=ours).replace(
                'keystoneauth', 'authtoken keystoneauth', 1))
        self.assertOk(self.run_cli('check-proxy-pipeline', path))


class SwiftInternalsTest(base.CommandTestCase):
    """The one use of Swift's internals is checked before it is relied on."""

    def patch_method(self, method):
        # mock, not fixtures.MonkeyPatch: that one wraps a function set on
        # a class in the signature of the one it replaces.
        from swift.proxy import server as proxy_server
        patcher = mock.patch.object(proxy_server.Application,
                                    'modify_wsgi_pipeline', method)
        patcher.start()
        self.addCleanup(patcher.stop)

    def check(self):
        path = self.write('proxy-server.conf', proxy_conf(GOOD))
        return self.run_cli('check-proxy-pipeline', path)

    def test_this_swift_passes(self):
        from openstack_ext.cmd import proxy_pipeline
        proxy_pipeline.check_swift()  # raises when it does not
        self.assertOk(self.check())

    def test_method_with_another_signature(self):
        self.patch_method(lambda self, pipe, extra: None)
        self.assertProblems(
            self.check(),
            'ERROR: swift.proxy.server.Application.modify_wsgi_pipeline is '
            'not the method(self, pipe) openstack-ext calls',
            'FAILED: 1 error')

    def test_method_missing(self):
        from swift.proxy import server as proxy_server
        self.useFixture(fixtures.MonkeyPatch(
            'swift.proxy.server.Application.modify_wsgi_pipeline',
            fixtures.MonkeyPatch.delete))
        self.assertFalse(hasattr(proxy_server.Application,
                                 'modify_wsgi_pipeline'))
        self.assertProblems(self.check(), 'is not the method(self, pipe)')

    def test_method_using_more_of_the_application(self):
        def modify_wsgi_pipeline(self, pipe):
            return self.conf['required_filters']
        self.patch_method(modify_wsgi_pipeline)
        self.assertProblems(
            self.check(),
            "Swift's Application.modify_wsgi_pipeline uses self.conf, which "
            "openstack-ext does not know")
