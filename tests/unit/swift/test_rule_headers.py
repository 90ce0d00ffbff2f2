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

"""The owner's headers: one example per branch."""

from swift.common import bufferedhttp
from swift.common import constraints
from swift.common import swob
import testtools

from openstack_ext.swift import rule_headers
from openstack_ext.swift import rule_reader

SYS = 'X-Container-Sysmeta-Ip-Whitelist-Allow-'


def request(path='/v1/AUTH_a/c', method='POST', **headers):
    return swob.Request.blank(path, environ={'REQUEST_METHOD': method},
                              headers=headers)


def target(req):
    return rule_reader.target(req.path_info)


# The owner module's functions, given each request's target as the
# middleware gives them.
def writable_kind(req):
    return rule_headers.writable_kind(req, target(req))


def changes_rules(req):
    return rule_headers.changes_rules(req, target(req))


def translate_rule_writes(req):
    return rule_headers.translate_rule_writes(req, target(req))


def written_rules(req):
    return rule_headers.written_rules(req, writable_kind(req))


class TestHolders(testtools.TestCase):

    def test_holder_kind(self):
        for path, kind in (('/v1/AUTH_a', 'account'),
                           ('/v1/AUTH_a/', 'account'),
                           ('/v1/AUTH_a/c', 'container'),
                           ('/v1/AUTH_a/c/', 'container'),
                           ('/v1.0/AUTH_a/c', 'container'),
                           ('/v1/AUTH_a/c/o', None),
                           ('/info', None), ('/auth/v1.0', None),
                           ('/v2/AUTH_a/c', None)):
            self.assertEqual(kind, rule_headers.holder_kind(
                rule_reader.target(path)), path)

    def test_only_put_and_post_write(self):
        self.assertEqual('account', writable_kind(
            request('/v1/AUTH_a', 'PUT')))
        for method in ('GET', 'HEAD', 'DELETE', 'COPY'):
            self.assertIsNone(writable_kind(request(method=method)))

    def test_prefixes_are_swift_s(self):
        self.assertEqual(('x-account-meta-allow-',
                          'x-account-sysmeta-ip-whitelist-allow-'),
                         rule_headers.prefixes('account'))


class TestTranslation(testtools.TestCase):

    def test_write_and_removals_move_to_sysmeta(self):
        req = request(**{'X-Container-Meta-Allow-Dev': ' 192.0.2.1 ',
                         'X-Container-Meta-Allow-Old': '',
                         'X-Remove-Container-Meta-Allow-Ops': 'x',
                         'X-Container-Meta-Color': 'red'})
        self.assertFalse(changes_rules(req))
        self.assertIsNone(translate_rule_writes(req))
        self.assertTrue(changes_rules(req))
        self.assertEqual('192.0.2.1', req.headers[SYS + 'Dev'])
        self.assertEqual('', req.headers[SYS + 'Old'])
        self.assertEqual('', req.headers[SYS + 'Ops'])
        # The guide-era plain copy is deleted; other metadata untouched.
        self.assertEqual('', req.headers['X-Container-Meta-Allow-Dev'])
        self.assertNotIn('X-Remove-Container-Meta-Allow-Ops', req.headers)
        self.assertEqual('red', req.headers['X-Container-Meta-Color'])
        self.assertEqual({'dev': '192.0.2.1', 'old': '', 'ops': ''},
                         written_rules(req))

    def test_account_rules_on_account_paths_only(self):
        req = request('/v1/AUTH_a', **{
            'X-Account-Meta-Allow-Vpn': '192.0.2.0/28',
            'X-Container-Meta-Allow-Dev': '192.0.2.1'})
        self.assertIsNone(translate_rule_writes(req))
        self.assertEqual('192.0.2.0/28', req.headers[
            'X-Account-Sysmeta-Ip-Whitelist-Allow-Vpn'])
        self.assertEqual('192.0.2.1', req.headers[
            'X-Container-Meta-Allow-Dev'])  # not a rule of an account

    def test_objects_and_reads_untouched(self):
        for req in (request('/v1/AUTH_a/c/o', **{
                'X-Object-Meta-Allow-Dev': 'junk'}),
                request(method='GET', **{
                    'X-Container-Meta-Allow-Dev': 'junk'})):
            before = dict(req.headers)
            self.assertIsNone(translate_rule_writes(req))
            self.assertEqual(before, dict(req.headers))

    def test_errors_name_the_rule_and_change_nothing(self):
        for headers, named in (
                ({'X-Container-Meta-Allow-': '192.0.2.1'}, 'rule name'),
                ({'X-Container-Meta-Allow-' + 'n' * 130: '192.0.2.1'},
                 'rule name'),
                ({'X-Container-Meta-Allow-Dev': '192.0.2.1,' * 30},
                 'longer than 256'),
                ({'X-Container-Meta-Allow-Dev': ' , '}, 'lists no address'),
                ({'X-Container-Meta-Allow-Dev': '192.0.2.1 nonsense',
                  'X-Container-Meta-Allow-Ok': '192.0.2.2'},
                 'invalid allow-dev rule: nonsense')):
            req = request(**headers)
            before = dict(req.headers)
            error = translate_rule_writes(req)
            self.assertIn(named, error)
            self.assertEqual(before, dict(req.headers))


class TestCounting(testtools.TestCase):

    stored = {('sysmeta', 'a'): '192.0.2.1 192.0.2.2',
              ('meta', 'b'): '192.0.2.3'}

    def count(self, writes, stored=None, limit=4):
        return rule_headers.count_error(
            'container', self.stored if stored is None else stored, writes,
            limit)

    def test_under_the_limit(self):
        self.assertIsNone(self.count({'c': '192.0.2.4'}))

    def test_over_the_limit(self):
        self.assertEqual('the container would list 5 networks in its allow-* '
                         'rules; at most 4 are allowed',
                         self.count({'c': '192.0.2.4 192.0.2.5'}))

    def test_a_replaced_rule_counts_its_new_value(self):
        self.assertIsNone(self.count({'a': '192.0.2.7',
                                      'c': '192.0.2.4 192.0.2.5'}))

    def test_removals_always_pass(self):
        self.assertIsNone(self.count({'a': ''}, limit=1))

    def names(self, count, prefix='n'):
        return {'%s%d' % (prefix, i): '192.0.2.1' for i in range(count)}

    def test_rule_names_bounded(self):
        most = rule_headers.MAX_RULE_NAMES
        self.assertIsNone(self.count(self.names(most), stored={},
                                     limit=1000))
        self.assertEqual('the container would have %d allow-* rules; at '
                         'most %d are allowed' % (most + 1, most),
                         self.count(self.names(most + 1), stored={},
                                    limit=1000))
        # Stored names count, once whatever their kind; a replaced name
        # is no addition.
        stored = {('sysmeta', 'n0'): '192.0.2.1', ('meta', 'n0'): '192.0.2.1'}
        self.assertIsNone(self.count(self.names(most), stored, limit=1000))
        stored[('sysmeta', 'x')] = '192.0.2.1'
        self.assertIsNotNone(self.count(self.names(most), stored, limit=1000))

    def test_names_stored_over_the_bound_can_only_shrink(self):
        stored = {('meta', k): v for k, v in self.names(
            rule_headers.MAX_RULE_NAMES + 2, 'old').items()}
        self.assertIsNotNone(self.count({'new': '192.0.2.9'}, stored, 1000))
        self.assertIsNone(self.count({'old0': '', 'new': '192.0.2.9'},
                                     stored, 1000))

    def test_names_fit_swifts_header_budget(self):
        # What the backends answer about a holder with the most user
        # metadata and the most rules stays within what the proxy reads
        # (swift.common.bufferedhttp), with room for other system metadata.
        self.assertLessEqual(
            constraints.MAX_HEADER_COUNT + rule_headers.MAX_RULE_NAMES + 10,
            bufferedhttp.http.client._MAXHEADERS)

    def test_over_the_limit_already_may_shrink(self):
        self.assertIsNone(self.count({'a': '192.0.2.9'}, limit=1))
        self.assertIsNotNone(self.count({'c': '192.0.2.9'}, limit=1))


class TestShownToOwner(testtools.TestCase):

    def test_sysmeta_shown_under_meta_names(self):
        self.assertEqual(
            [('x-account-meta-allow-vpn', '192.0.2.0/28'),
             ('x-container-meta-allow-dev', '192.0.2.1')],
            rule_headers.shown_rules([
                ('X-Account-Sysmeta-Ip-Whitelist-Allow-Vpn', '192.0.2.0/28'),
                ('X-Container-Sysmeta-Ip-Whitelist-Allow-Dev', '192.0.2.1'),
                ('X-Object-Sysmeta-Ip-Whitelist-Allow-X', '192.0.2.2'),
                ('X-Container-Sysmeta-Other', 'x'),
                ('Content-Length', '0')]))
