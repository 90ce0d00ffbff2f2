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

"""The middleware refuses to start where it could be bypassed.

Built from Swift's real middleware factories, right to left as
paste.deploy does, so the chain the check walks is the real one.
"""

import testtools

from swift.common.middleware import copy
from swift.common.middleware import dlo
from swift.common.middleware import formpost
from swift.common.middleware import slo
from swift.common.middleware import symlink
from swift.common.middleware import tempauth
from swift.common.middleware import tempurl
from swift.common.middleware import versioned_writes

from openstack_ext.swift import ip_whitelist
from openstack_ext.swift import pipeline

FACTORIES = {
    'tempauth': tempauth.filter_factory,
    'tempurl': tempurl.filter_factory,
    'formpost': formpost.filter_factory,
    'copy': copy.filter_factory,
    'slo': slo.filter_factory,
    'dlo': dlo.filter_factory,
    'versioned_writes': versioned_writes.filter_factory,
    'symlink': symlink.filter_factory,
    'ip_whitelist': ip_whitelist.filter_factory,
}


def final_app(env, start_response):
    start_response('204 No Content', [])
    return [b'']


def build(names):
    app = final_app
    for name in reversed(names):
        app = FACTORIES[name]({}, always_allow='127.0.0.1')(app)
    return app


class TestRunningPipeline(testtools.TestCase):

    def test_recommended_order_builds(self):
        app = build(['tempurl', 'tempauth', 'ip_whitelist', 'formpost',
                     'copy', 'slo', 'dlo', 'versioned_writes', 'symlink'])
        self.assertIsInstance(app.app.app, ip_whitelist.IPWhitelistMiddleware)

    def test_auth_after_the_filter_stops_the_proxy(self):
        error = self.assertRaises(
            ValueError, build,
            ['ip_whitelist', 'tempauth', 'copy', 'dlo', 'versioned_writes'])
        self.assertIn('tempauth must come before ip_whitelist', str(error))

    def test_tempurl_after_the_filter_stops_the_proxy(self):
        error = self.assertRaises(
            ValueError, build,
            ['tempauth', 'ip_whitelist', 'tempurl', 'copy', 'dlo',
             'versioned_writes'])
        self.assertIn('tempurl must come before ip_whitelist', str(error))

    def test_names_right_of_follows_the_chain(self):
        app = build(['copy', 'slo', 'dlo'])
        self.assertEqual(['copy', 'slo', 'dlo'],
                         pipeline.names_right_of(app))

    def test_copy_left_of_the_filter_is_a_warning(self):
        app = build(['copy', 'tempauth', 'ip_whitelist', 'dlo',
                     'versioned_writes'])
        errors, warnings = pipeline.check_running_pipeline(
            app.app.app.app)
        self.assertEqual([], errors)
        self.assertEqual(1, len(warnings))
        self.assertIn('copy should come after ip_whitelist', warnings[0])


class TestPlacementProblems(testtools.TestCase):

    def test_every_bypassing_middleware_is_an_error(self):
        errors, warnings = pipeline.placement_problems(
            [], list(pipeline.MUST_PRECEDE))
        self.assertEqual(len(pipeline.MUST_PRECEDE), len(errors))
        self.assertEqual([], warnings)

    def test_slo_on_the_left_is_an_error(self):
        # Its async delete would queue segments the rules refuse.
        errors, warnings = pipeline.placement_problems(['slo'], [])
        self.assertEqual(1, len(errors))
        self.assertIn('slo must come after ip_whitelist', errors[0])
        self.assertEqual([], warnings)
        # Positive control: on the right, nothing to say.
        self.assertEqual(([], []), pipeline.placement_problems([], ['slo']))

    def test_subrequest_makers_on_the_left_are_warnings(self):
        errors, warnings = pipeline.placement_problems(
            list(pipeline.SHOULD_FOLLOW), [])
        self.assertEqual([], errors)
        self.assertEqual(len(pipeline.SHOULD_FOLLOW), len(warnings))


class TestNames(testtools.TestCase):
    """Middleware names come from Swift's entry points, the one source."""

    def test_every_name_of_the_rules_is_a_swift_entry_point(self):
        names = set(pipeline.swift_filter_names().values())
        for name in (pipeline.MUST_PRECEDE + pipeline.MUST_FOLLOW +
                     pipeline.SHOULD_FOLLOW + pipeline.ALWAYS_PRESENT):
            self.assertIn(name, names)

    def test_instances_of_every_factory_are_named(self):
        for name, factory in FACTORIES.items():
            if name == 'ip_whitelist':
                continue
            self.assertEqual(name, pipeline.name_of(
                factory({}, always_allow='127.0.0.1')(final_app)))

    def test_submodules_of_a_factory_module(self):
        # versioned_writes' factory returns either of these.
        for module in ('swift.common.middleware.versioned_writes.legacy',
                       'swift.common.middleware.versioned_writes.'
                       'object_versioning'):
            self.assertEqual('versioned_writes',
                             pipeline.name_of_module(module))
        self.assertEqual('s3api', pipeline.name_of_module(
            'swift.common.middleware.s3api.s3api'))
        self.assertEqual('s3token', pipeline.name_of_module(
            'swift.common.middleware.s3api.s3token'))
        self.assertIsNone(pipeline.name_of_module('swift.common.utils'))
        self.assertIsNone(pipeline.name_of(final_app))
