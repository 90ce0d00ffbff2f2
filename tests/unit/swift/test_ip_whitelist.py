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

"""The decision, and the middleware on a small fake of the proxy.

One example per branch. The real middleware, in front of
:class:`FakeProxy`: it asks ``swift.authorize`` as Swift's proxy does
and answers ``204``. Account and container info sit in the request's
``swift.infocache`` as Swift's ``headers_to_*_info`` shapes them; the
functional tests run the same on a real cluster.
"""

import ipaddress
import itertools
import logging

from swift.common import constraints
from swift.common import swob
from swift.common import utils
from swift.proxy.controllers import base as proxy_base
import testtools

from openstack_ext.swift import ip_whitelist
from openstack_ext.swift import judge
from openstack_ext.swift import replicas
from openstack_ext.swift import rule_reader

from tests.unit.swift import test_decision as decided
from tests.unit.swift import test_replicas

# The clients and rules of the decision's own tests.
IN_BOTH, IN_ACCOUNT, IN_CONTAINER = (
    decided.IN_BOTH, decided.IN_ACCOUNT, decided.IN_CONTAINER)
OUTSIDE, ALWAYS = decided.OUTSIDE, decided.ALWAYS
ACCOUNT_RULE, CONTAINER_RULE = decided.ACCOUNT_RULE, decided.CONTAINER_RULE

ACCOUNT = '/v1/AUTH_a'
CONTAINER = ACCOUNT + '/c'
OBJECT = CONTAINER + '/o'
ip = ipaddress.ip_address


def _logger():
    logger = utils.get_logger({'log_level': 'DEBUG'}, log_route='ipw_unit',
                              statsd_tail_prefix='ip_whitelist')
    for handler in list(logger.logger.handlers):
        logger.logger.removeHandler(handler)
    logger.logger.addHandler(logging.NullHandler())
    return logger


class FakeProxy(object):
    """Right of the filter: asks ``swift.authorize``, then answers 204."""

    def __init__(self):
        self.reached = []
        self.account_status = '204 No Content'
        self.container_count = '0'

    def __call__(self, env, start_response):
        authorize = env.get('swift.authorize')
        if authorize is not None:
            denial = authorize(swob.Request(env))
            if denial is not None:
                return denial(env, start_response)
        self.reached.append(swob.Request(env))
        if env.get('swift.source') == rule_reader.SWIFT_SOURCE:
            # The filter's own look at an account: how many containers.
            start_response(self.account_status, [
                ('X-Account-Container-Count', self.container_count)])
            return [b'']
        start_response('204 No Content', [
            ('X-Container-Sysmeta-Ip-Whitelist-Allow-Dev', '192.0.2.1')])
        return [b'']


def fake_auth(owner):
    """A ``swift.authorize`` that grants, telling whether to an owner."""
    def authorize(req):
        if owner:
            req.environ['swift_owner'] = True
        return None
    return authorize


def refusing_auth(refusal=swob.HTTPForbidden, times=None):
    """A ``swift.authorize`` that refuses: always, or the first *times*."""
    asked = []

    def authorize(req):
        asked.append(req)
        if times is None or len(asked) <= times:
            return refusal(request=req)
        return None
    return authorize


def info_cache(account_rule=None, container_rule=None, account_status=200,
               container_status=200):
    def headers(kind, value):
        return {'x-%s-sysmeta-ip-whitelist-allow-x' % kind: value} \
            if value else {}
    return {
        'account/AUTH_a': proxy_base.headers_to_account_info(
            headers('account', account_rule), account_status),
        'container/AUTH_a/c': proxy_base.headers_to_container_info(
            headers('container', container_rule), container_status)}


class MiddlewareTestCase(testtools.TestCase):

    def setUp(self):
        super(MiddlewareTestCase, self).setUp()
        self.app = FakeProxy()
        self.mw = self.make({'always_allow': ALWAYS, 'max_rules': '3'})

    def make(self, conf, app=None):
        """The filter in front of *app* (by default the test's proxy).

        The fake proxy has no rings: reading every replica is tested on a
        real three-replica cluster (tests/functional/swift/test_replicas).
        """
        conf = dict({'replica_reads': 'false'}, **conf)
        return ip_whitelist.IPWhitelistMiddleware(app or self.app, conf,
                                                  logger=_logger())

    def call(self, path, client=OUTSIDE, method='GET', headers=None,
             cache=None, owner=True, mw=None):
        req = swob.Request.blank(path, environ={'REQUEST_METHOD': method},
                                 headers=headers)
        req.environ['REMOTE_ADDR'] = client
        if cache is not None:
            req.environ['swift.infocache'] = cache
        req.environ['swift.authorize'] = fake_auth(owner)
        resp = req.get_response(mw or self.mw)
        return resp


class TestJudging(MiddlewareTestCase):
    """Where ``check`` is asked, and what it answers."""

    def test_no_account_in_the_path_passes_unread(self):
        for path in ('/info', '/auth/v1.0', '/healthcheck', '/v2/AUTH_a/c'):
            # No info cached: reading the rules would reach the fake proxy.
            resp = self.call(path)
            self.assertEqual(204, resp.status_int, path)
        self.assertEqual(4, len(self.app.reached))

    def test_account_request_judged_by_the_account_rules(self):
        cache = info_cache(ACCOUNT_RULE)
        for method in ('GET', 'HEAD', 'POST', 'PUT', 'DELETE'):
            resp = self.call(ACCOUNT, OUTSIDE, method, cache=cache)
            self.assertEqual(403, resp.status_int, method)
        self.assertEqual(b'IP Denied', self.call(ACCOUNT, cache=cache).body)
        self.assertEqual(204, self.call(ACCOUNT, IN_ACCOUNT,
                                        cache=cache).status_int)
        self.assertEqual(1, len(self.app.reached))

    def test_account_request_without_rules_passes_even_strict(self):
        strict = self.make({'always_allow': '', 'deny_without_rules': 'on'})
        self.assertEqual(204, self.call(ACCOUNT, cache=info_cache(),
                                        mw=strict).status_int)
        # Control: a container request there is closed.
        self.assertEqual(403, self.call(CONTAINER, cache=info_cache(),
                                        mw=strict).status_int)

    def test_gone_account_has_no_rules(self):
        cache = info_cache(account_status=404)
        self.assertEqual(204, self.call(ACCOUNT, cache=cache).status_int)
        self.assertEqual(204, self.call(CONTAINER, cache=cache).status_int)
        # An object there: no database can vouch for it.
        self.assertEqual(404, self.call(OBJECT, cache=cache).status_int)

    def test_unreadable_rules_fail_closed(self):
        for cache in (info_cache(account_status=503),
                      info_cache(container_status=500)):
            resp = self.call(OBJECT, IN_BOTH, cache=cache)
            self.assertEqual(503, resp.status_int)
        self.assertEqual(503, self.call(
            ACCOUNT, IN_BOTH, cache=info_cache(account_status=503)
        ).status_int)
        self.assertEqual([], self.app.reached)

    def test_always_allow_reads_no_rules(self):
        # Unreadable rules do not matter to the always-allowed seat.
        resp = self.call(OBJECT, ALWAYS, cache=info_cache(
            account_status=503, container_status=503))
        self.assertEqual(204, resp.status_int)

    def test_object_needs_every_level(self):
        cache = info_cache(ACCOUNT_RULE, CONTAINER_RULE)
        for client, status in ((IN_BOTH, 204), (IN_ACCOUNT, 403),
                               ('192.0.2.9', 403), (OUTSIDE, 403)):
            resp = self.call(OBJECT, client, cache=cache)
            self.assertEqual(status, resp.status_int, client)

    def test_rules_unreadable_from_the_replicas_refuse(self):
        # replica_reads on, and no proxy app with rings to be found.
        mw = self.make({'always_allow': ALWAYS, 'replica_reads': 'true'})
        resp = self.call(OBJECT, IN_BOTH, mw=mw,
                         cache=info_cache(ACCOUNT_RULE, CONTAINER_RULE))
        self.assertEqual(503, resp.status_int)
        # Holders without rules are not read there (replica_reads = true).
        resp = self.call(OBJECT, OUTSIDE, mw=mw, cache=info_cache())
        self.assertEqual(204, resp.status_int)

    def test_misplaced_refuses_account_requests_too(self):
        self.mw.judge.misplaced = 'tempauth must come before ip_whitelist'
        for path in (ACCOUNT, OBJECT):
            resp = self.call(path, ALWAYS, cache=info_cache())
            self.assertEqual(503, resp.status_int, path)
        self.assertEqual(204, self.call('/info', ALWAYS).status_int)

    def test_subrequest_judged_by_the_original_client(self):
        cache = info_cache(container_rule=CONTAINER_RULE)

        def subrequest_app(env, start_response):
            # As SLO would: another path, no REMOTE_ADDR of its own.
            sub = swob.Request.blank(OBJECT, environ={
                'swift.authorize': env['swift.authorize'],
                'swift.infocache': cache})
            denial = sub.environ['swift.authorize'](sub)
            start_response('200 OK' if denial is None else '403 Forbidden',
                           [])
            return [b'']
        mw = self.make({'always_allow': ''}, subrequest_app)
        for client, status in ((OUTSIDE, 403), (IN_CONTAINER, 200)):
            resp = self.call(ACCOUNT, client, cache=cache, mw=mw)
            self.assertEqual(status, resp.status_int, client)


class TestWithoutAsyncDelete(testtools.TestCase):

    def query_after(self, method, query):
        req = swob.Request.blank('/v1/a/c/o?' + query,
                                 environ={'REQUEST_METHOD': method})
        judge.without_async_delete(req)
        return req.query_string

    def test_async_goes_from_deletes_only(self):
        for query in ('multipart-manifest=delete&async=yes',
                      'async=on&multipart-manifest=delete&async=',
                      'multipart-manifest=delete&async'):
            self.assertEqual('multipart-manifest=delete',
                             self.query_after('DELETE', query), query)
        # Positive controls: what is not an async delete stays as it is.
        for method, query in (('DELETE', 'multipart-manifest=delete'),
                              ('GET', 'multipart-manifest=get&async=yes'),
                              ('DELETE', 'asynchronous=yes')):
            self.assertEqual(query, self.query_after(method, query))


class TestForwardedBy(MiddlewareTestCase):
    """Who the client is when a request carries ``X-Forwarded-For``."""

    def test_always_allowed_peer_forwarding_is_no_longer_always_allowed(self):
        cache = info_cache(container_rule=CONTAINER_RULE)
        forwarded = {'X-Forwarded-For': IN_CONTAINER}
        # Control: the always-allowed peer's own request passes.
        self.assertEqual(204, self.call(OBJECT, ALWAYS, cache=cache)
                         .status_int)
        # Forwarding for somebody, untrusted: an unknown client.
        for headers in (forwarded, {'X-Forwarded-For': OUTSIDE}):
            self.assertEqual(403, self.call(OBJECT, ALWAYS, headers=headers,
                                            cache=cache).status_int)
        # Where no rule applies, an unknown client passes.
        self.assertEqual(204, self.call(OBJECT, ALWAYS, headers=forwarded,
                                        cache=info_cache()).status_int)
        # Listed in trusted_proxies, it forwards the real client.
        trusting = self.make({'always_allow': ALWAYS,
                              'trusted_proxies': ALWAYS})
        self.assertEqual(204, self.call(OBJECT, ALWAYS, headers=forwarded,
                                        cache=cache, mw=trusting).status_int)

    def test_always_allowed_client_behind_a_trusted_proxy(self):
        # The walk's result may be always allowed: only the peer matters.
        trusting = self.make({'always_allow': ALWAYS,
                              'trusted_proxies': IN_BOTH})
        cache = info_cache(container_rule='192.0.2.9')
        self.assertEqual(204, self.call(
            OBJECT, IN_BOTH, headers={'X-Forwarded-For': ALWAYS},
            cache=cache, mw=trusting).status_int)
        self.assertEqual(403, self.call(
            OBJECT, IN_BOTH, headers={'X-Forwarded-For': OUTSIDE},
            cache=cache, mw=trusting).status_int)


class TestOwnerRights(MiddlewareTestCase):
    """What the wrapped ``swift.authorize`` keeps for the owner."""

    def test_rule_write_by_a_non_owner(self):
        resp = self.call(CONTAINER, IN_BOTH, 'POST', {
            'X-Container-Meta-Allow-Dev': IN_BOTH}, info_cache(),
            owner=False)
        self.assertEqual(403, resp.status_int)
        self.assertIn(b'Only the owner can change', resp.body)

    def test_rule_write_by_the_owner_is_stored_as_sysmeta(self):
        resp = self.call(ACCOUNT, IN_BOTH, 'POST', {
            'X-Account-Meta-Allow-Dev': IN_BOTH}, info_cache())
        self.assertEqual(204, resp.status_int)
        headers = self.app.reached[0].headers
        self.assertEqual(IN_BOTH, headers[
            'X-Account-Sysmeta-Ip-Whitelist-Allow-Dev'])
        self.assertEqual('', headers['X-Account-Meta-Allow-Dev'])

    def test_bad_rule_is_400_and_reaches_nothing(self):
        resp = self.call(CONTAINER, IN_BOTH, 'PUT', {
            'X-Container-Meta-Allow-Dev': '10.1.2.3/16'}, info_cache())
        self.assertEqual(400, resp.status_int)
        self.assertIn(b'10.1.2.3/16', resp.body)
        self.assertEqual([], self.app.reached)

    def test_owner_over_max_rules(self):
        resp = self.call(CONTAINER, IN_BOTH, 'POST', {
            'X-Container-Meta-Allow-Dev': '10.0.0.0/8 10.1.0.0/16',
            'X-Container-Meta-Allow-Ops': '192.0.2.8/29 192.0.2.16/28'},
            info_cache())
        self.assertEqual(400, resp.status_int)
        self.assertIn(b'would list 4 networks', resp.body)

    def test_delete_of_a_container_holding_rules(self):
        cache = info_cache(container_rule=CONTAINER_RULE)
        resp = self.call(CONTAINER, IN_CONTAINER, 'DELETE', cache=cache,
                         owner=False)
        self.assertEqual(403, resp.status_int)
        self.assertIn(b'Only the owner can delete', resp.body)
        self.assertEqual(204, self.call(CONTAINER, IN_CONTAINER, 'DELETE',
                                        cache=cache).status_int)

    def test_delete_of_an_account_holding_rules(self):
        cache = info_cache(ACCOUNT_RULE)
        self.assertEqual(403, self.call(ACCOUNT, IN_ACCOUNT, 'DELETE',
                                        cache=cache, owner=False).status_int)
        self.assertEqual(204, self.call(ACCOUNT, IN_ACCOUNT, 'DELETE',
                                        cache=cache).status_int)

    def test_delete_of_an_account_holding_containers(self):
        # Their rules would go with it: only from always_allow.
        cache = info_cache()
        self.app.container_count = '1'
        resp = self.call(ACCOUNT, OUTSIDE, 'DELETE', cache=cache)
        self.assertEqual(403, resp.status_int)
        self.assertIn(b'always_allow', resp.body)
        self.assertEqual(204, self.call(ACCOUNT, ALWAYS, 'DELETE',
                                        cache=cache).status_int)
        # Unreadable counts as holding containers; none lets it go.
        self.app.account_status = '503 Service Unavailable'
        self.assertEqual(403, self.call(ACCOUNT, OUTSIDE, 'DELETE',
                                        cache=cache).status_int)
        self.app.account_status, self.app.container_count = '204 OK', '0'
        self.assertEqual(204, self.call(ACCOUNT, OUTSIDE, 'DELETE',
                                        cache=cache).status_int)

    def test_delete_without_rules_or_of_an_object_is_auth_s_business(self):
        self.assertEqual(204, self.call(CONTAINER, OUTSIDE, 'DELETE',
                                        cache=info_cache(),
                                        owner=False).status_int)
        cache = info_cache(container_rule=CONTAINER_RULE)
        self.assertEqual(204, self.call(OBJECT, IN_CONTAINER, 'DELETE',
                                        cache=cache, owner=False).status_int)

    def test_delete_where_rules_are_unreadable_is_the_owner_s(self):
        cache = info_cache(container_status=503)
        # From the always-allowed seat, which reads no rules to pass.
        self.assertEqual(403, self.call(CONTAINER, ALWAYS, 'DELETE',
                                        cache=cache, owner=False).status_int)
        self.assertEqual(204, self.call(CONTAINER, ALWAYS, 'DELETE',
                                        cache=cache).status_int)

    def test_versions_out_of_a_container_holding_rules(self):
        # As versioned_writes leaves X-History-Location when it asks
        # swift.authorize.
        sets = {'X-Container-Sysmeta-Versions-Location': 'archive'}
        cache = info_cache(container_rule=CONTAINER_RULE)
        resp = self.call(CONTAINER, IN_CONTAINER, 'POST', sets, cache,
                         owner=False)
        self.assertEqual(403, resp.status_int)
        self.assertIn(b'Only the owner can send the versions', resp.body)
        self.assertEqual(204, self.call(CONTAINER, IN_CONTAINER, 'POST', sets,
                                        cache).status_int)
        # Stopping the archiving, or archiving where no rule is, is not.
        self.assertEqual(204, self.call(CONTAINER, IN_CONTAINER, 'POST', {
            'X-Container-Sysmeta-Versions-Location': ''}, cache,
            owner=False).status_int)
        self.assertEqual(204, self.call(CONTAINER, OUTSIDE, 'POST', sets,
                                        info_cache(),
                                        owner=False).status_int)

    def test_rules_shown_to_the_owner_only(self):
        cache = info_cache()
        owner = self.call(CONTAINER, ALWAYS, 'HEAD', cache=cache)
        self.assertEqual('192.0.2.1',
                         owner.headers['X-Container-Meta-Allow-Dev'])
        other = self.call(CONTAINER, ALWAYS, 'HEAD', cache=cache,
                          owner=False)
        self.assertNotIn('X-Container-Meta-Allow-Dev', other.headers)
        obj = self.call(OBJECT, ALWAYS, 'HEAD', cache=cache)
        self.assertNotIn('X-Container-Meta-Allow-Dev', obj.headers)


class AskingProxy(FakeProxy):
    """As Swift's proxy: reads the container's info, then asks auth.

    Asks ``swift.authorize`` a second time after a refusal, as the object
    controller does for a handler marked ``delay_denial``.
    """

    def __init__(self, cache):
        super(AskingProxy, self).__init__()
        self.cache = cache
        self.asked = []

    def __call__(self, env, start_response):
        env['swift.infocache'] = self.cache  # get_controller's read
        authorize = env['swift.authorize']
        denial = authorize(swob.Request(env))
        self.asked.append(denial)
        if denial is not None:
            denial = authorize(swob.Request(env))
            self.asked.append(denial)
            if denial is not None:
                return denial(env, start_response)
        self.reached.append(swob.Request(env))
        start_response('200 OK', [])
        return [b'object bytes']


class TestObjectReadsJudgedAtAuthorize(MiddlewareTestCase):
    """Object GET and HEAD: judged when the proxy asks, and only then."""

    def setUp(self):
        super(TestObjectReadsJudgedAtAuthorize, self).setUp()
        self.cache = info_cache(ACCOUNT_RULE, CONTAINER_RULE)
        self.app = AskingProxy(self.cache)
        self.mw = self.make({'always_allow': ALWAYS})
        self.counted = []
        self.mw.logger.increment = self.counted.append

    def test_object_paths_as_swift_splits_them(self):
        # Judged at the question: what utils.split_path(path, 4, 4, True)
        # accepts, in plain ASCII; any other path is judged ahead.
        def swift_object_path(path):
            try:
                version, _a, _c, obj = utils.split_path(path, 4, 4, True)
            except ValueError:
                return False
            return bool(obj) and constraints.valid_api_version(version)

        paths = ['/'.join(segments) for count in range(1, 7)
                 for segments in itertools.product(('', 'v1', 'a'),
                                                   repeat=count)]
        paths += ['/v2/a/c/o', '/v1.0/a/c/o', '/v1/a/c/o/', '/v1/a/c/o//p',
                  '/v1/a/c/\u00e9', '/v1/a/c/o\x00', 'v1/a/c/o']
        accepted = []
        for path in paths:
            env = {'REQUEST_METHOD': 'GET', 'PATH_INFO': path}
            expected = path.isascii() and '\x00' not in path and \
                swift_object_path(path)
            req = swob.Request(env)
            self.assertEqual(expected, judge.judged_at_question(
                req, rule_reader.target(path), self.mw.judge), path)
            accepted.append(expected)
        self.assertIn(True, accepted)  # both kinds were tried
        self.assertIn(False, accepted)
        self.assertFalse(judge.judged_at_question(
            swob.Request.blank('/v1/a/c/o', method='PUT'),
            rule_reader.target('/v1/a/c/o'), self.mw.judge))

    def test_judged_with_the_info_the_proxy_read(self):
        for method in ('GET', 'HEAD'):
            # No info cache ahead: a look-up there would have reached the
            # fake proxy as a HEAD (and failed: it has no such answer).
            self.assertEqual(200, self.call(OBJECT, IN_BOTH,
                                            method).status_int)
            self.assertEqual(403, self.call(OBJECT, IN_ACCOUNT,
                                            method).status_int)
        self.assertEqual(['GET', 'HEAD'],
                         [r.method for r in self.app.reached])

    def test_large_rule_sets_answer_returning_clients_alike(self):
        # Every client, asked again and in turn, gets the same answer.
        def padded(rule, third):
            return ', '.join([rule] + [
                '10.%d.0.%d' % (third, 2 * i) for i in range(100)])
        account = padded(ACCOUNT_RULE, 1)
        container = padded(CONTAINER_RULE, 2)
        self.app = AskingProxy(info_cache(account, container))
        self.mw = self.make({'always_allow': ALWAYS})
        # 192.0.2.9: in the container's rules only; 10.1.0.2 in the
        # account's, 10.2.0.2 in the container's.
        expected = {IN_BOTH: 200, IN_ACCOUNT: 403, IN_CONTAINER: 200,
                    '192.0.2.9': 403, OUTSIDE: 403, '10.1.0.2': 403,
                    '10.2.0.2': 403}
        for _turn in range(3):
            for client, status in sorted(expected.items()):
                self.assertEqual(status, self.call(OBJECT, client)
                                 .status_int, client)
        self.assertEqual(2, len(self.mw.cache))  # each set compiled once

    def test_refused_each_time_asked_counted_once(self):
        resp = self.call(OBJECT, OUTSIDE)
        self.assertEqual(403, resp.status_int)
        self.assertEqual(b'IP Denied', resp.body)
        self.assertEqual([403, 403], [d.status_int for d in self.app.asked])
        # Each answer is built afresh: what the proxy does to one is not
        # what the client gets.
        self.assertIsNot(self.app.asked[0], self.app.asked[1])
        self.assertEqual(['denied'], self.counted)
        self.assertEqual([], self.app.reached)

    def test_a_judgment_that_raises_admits_nothing(self):
        # Whatever goes wrong while judging a read at the proxy's
        # question, the read is not admitted afterwards.
        def asking_twice(env, start_response):
            env['swift.infocache'] = self.cache
            for _ in range(2):
                try:
                    denial = env['swift.authorize'](swob.Request(env))
                except RuntimeError:
                    continue  # as a middleware that carries on would
                if denial is None:
                    start_response('200 OK', [])
                    return [b'object bytes']
            start_response('500 Internal Error', [])
            return [b'']
        mw = self.make({'always_allow': ALWAYS}, asking_twice)

        def broken(*_args):
            raise RuntimeError('the rules could not be judged')
        mw.judge.judge = broken
        self.assertRaises(RuntimeError, self.call, OBJECT, IN_BOTH, mw=mw)

    def test_refusal_decorated_by_the_proxy_goes_out_fresh(self):
        # As the proxy's CORS handling does to the answer of the
        # controller that swift.authorize refused.
        def decorating(env, start_response):
            env['swift.infocache'] = self.cache
            denial = env['swift.authorize'](swob.Request(env))
            if denial is None:
                start_response('200 OK', [])
                return [b'object bytes']
            denial.headers['Access-Control-Allow-Origin'] = 'http://a.example'
            denial.headers['Access-Control-Expose-Headers'] = 'X-Secret'
            return denial(env, start_response)
        mw = self.make({'always_allow': ALWAYS}, decorating)
        origin = {'Origin': 'http://a.example'}
        resp = self.call(OBJECT, OUTSIDE, headers=origin, mw=mw)
        plain = self.call(OBJECT, OUTSIDE, mw=mw)
        self.assertEqual(403, resp.status_int)
        self.assertNotIn('Access-Control-Allow-Origin', resp.headers)
        self.assertNotIn('Access-Control-Expose-Headers', resp.headers)
        self.assertEqual((plain.status, sorted(plain.headers.items()),
                          plain.body),
                         (resp.status, sorted(resp.headers.items()),
                          resp.body))
        # Control: the listed client gets the object.
        self.assertEqual(b'object bytes',
                         self.call(OBJECT, IN_BOTH, headers=origin,
                                   mw=mw).body)

    def test_refused_subrequest_answer_goes_out_fresh(self):
        # As copy and symlink do: a subrequest's refusal (decorated on the
        # way) returned as the client's answer, eagerly or lazily.
        self.cache['container/AUTH_a/src'] = \
            proxy_base.headers_to_container_info({
                'x-container-sysmeta-ip-whitelist-allow-x': IN_CONTAINER},
                200)
        self.cache['account/AUTH_a'] = proxy_base.headers_to_account_info(
            {}, 200)

        def copying(lazily):
            def app(env, start_response):
                env['swift.infocache'] = self.cache
                sub = swob.Request.blank(ACCOUNT + '/src/o',
                                         environ={'swift.infocache':
                                                  self.cache})
                sub.environ['swift.authorize'] = env['swift.authorize']
                denial = sub.environ['swift.authorize'](sub)
                if denial is None:
                    start_response('201 Created', [])
                    return [b'copied']
                denial.headers['Access-Control-Allow-Origin'] = '*'
                if not lazily:
                    return denial(env, start_response)

                def later():
                    yield from denial(env, start_response)
                return later()
            return app
        for lazily in (False, True):
            mw = self.make({'always_allow': ALWAYS}, copying(lazily))
            resp = self.call(CONTAINER + '/o', IN_BOTH, 'PUT', cache={
                'account/AUTH_a': self.cache['account/AUTH_a'],
                'container/AUTH_a/c': proxy_base.headers_to_container_info(
                    {}, 200)}, mw=mw)
            self.assertEqual(403, resp.status_int, lazily)
            self.assertEqual(b'IP Denied', resp.body, lazily)
            self.assertNotIn('Access-Control-Allow-Origin', resp.headers)
            # Control: a client the source admits.
            self.assertEqual(201, self.call(
                CONTAINER + '/o', IN_CONTAINER, 'PUT', mw=mw).status_int)

    def test_account_refusal_hides_whether_the_container_exists(self):
        gone = info_cache(ACCOUNT_RULE, container_status=404)
        there = info_cache(ACCOUNT_RULE, CONTAINER_RULE)
        for method in ('GET', 'HEAD', 'PUT', 'POST', 'DELETE'):
            answers = []
            for cache in (gone, there):
                self.app.cache = cache  # what the proxy reads
                answers.append(self.call(OBJECT, OUTSIDE, method,
                                         cache=cache))
            self.assertEqual([403, 403], [a.status_int for a in answers],
                             method)
            self.assertEqual(answers[0].body, answers[1].body)
        # Control: a client the account admits learns the container is
        # gone.
        self.app.cache = gone
        self.assertEqual(404, self.call(OBJECT, IN_ACCOUNT,
                                        cache=gone).status_int)

    def test_answer_made_without_asking_is_judged(self):
        def answering(env, start_response):
            env['swift.infocache'] = self.cache
            start_response('200 OK', [])
            return [b'object bytes']
        mw = self.make({'always_allow': ALWAYS}, answering)
        resp = self.call(OBJECT, OUTSIDE, mw=mw)
        self.assertEqual(403, resp.status_int)
        self.assertNotIn(b'object bytes', resp.body)
        self.assertEqual(b'object bytes',
                         self.call(OBJECT, IN_BOTH, mw=mw).body)

    def test_answer_started_lazily_without_asking_is_judged(self):
        # As proxy-logging to the right does: start_response is called
        # when the first chunk is asked for, after the app has returned.
        def lazy(env, start_response):
            env['swift.infocache'] = self.cache

            def answer():
                start_response('200 OK', [('X-Answered', 'lazily')])
                yield b'object bytes'
            return answer()
        mw = self.make({'always_allow': ALWAYS}, lazy)
        resp = self.call(OBJECT, OUTSIDE, mw=mw)
        self.assertEqual(403, resp.status_int)
        self.assertNotIn(b'object bytes', resp.body)
        self.assertNotIn('X-Answered', resp.headers)
        resp = self.call(OBJECT, IN_BOTH, mw=mw)
        self.assertEqual(b'object bytes', resp.body)
        self.assertEqual('lazily', resp.headers['X-Answered'])

    def test_admitted_answer_goes_out_untouched(self):
        # The proxy asked and the read passed: the very iterator it
        # answered with is what leaves, started when it starts.
        answers = []

        def asking_lazily(env, start_response):
            env['swift.infocache'] = self.cache
            denial = env['swift.authorize'](swob.Request(env))
            self.assertIsNone(denial)

            def answer():
                start_response('200 OK', [])
                yield b'object bytes'
            answers.append(answer())
            return answers[-1]
        mw = self.make({'always_allow': ALWAYS}, asking_lazily)
        env = swob.Request.blank(OBJECT).environ
        env['REMOTE_ADDR'] = IN_BOTH
        started = []
        app_iter = mw(env, lambda *args: started.append(args))
        self.assertIs(answers[0], app_iter)
        self.assertEqual([], started)
        self.assertEqual([b'object bytes'], list(app_iter))
        self.assertEqual('200 OK', started[0][0])

    def test_started_then_asked_goes_out_once_admitted(self):
        # An app that gives its status first and asks auth afterwards, on
        # the same environment: the status is held, then released.
        def starting_first(env, start_response):
            env['swift.infocache'] = self.cache
            start_response('200 OK', [('X-Started', 'first')])
            denial = env['swift.authorize'](swob.Request(env))
            if denial is not None:
                return denial(env, start_response)
            return [b'object bytes']
        mw = self.make({'always_allow': ALWAYS}, starting_first)
        resp = self.call(OBJECT, IN_BOTH, mw=mw)
        self.assertEqual(200, resp.status_int)
        self.assertEqual(b'object bytes', resp.body)
        self.assertEqual('first', resp.headers['X-Started'])
        resp = self.call(OBJECT, IN_ACCOUNT, mw=mw)
        self.assertEqual(403, resp.status_int)
        self.assertNotIn(b'object bytes', resp.body)

    def test_write_asked_on_the_read_path_passes_the_archive_too(self):
        # A middleware to the right asks about a PUT on the read's path:
        # the container's versions archive must admit the client as well.
        self.cache['container/AUTH_a/c']['versions'] = 'arch'
        self.cache['container/AUTH_a/arch'] = \
            proxy_base.headers_to_container_info({
                'x-container-sysmeta-ip-whitelist-allow-x': IN_ACCOUNT},
                200)

        def writing(env, start_response):
            env['swift.infocache'] = self.cache
            denial = env['swift.authorize'](swob.Request(
                dict(env, REQUEST_METHOD='PUT')))
            if denial is not None:
                return denial(env, start_response)
            start_response('201 Created', [])
            return [b'']
        mw = self.make({'always_allow': ALWAYS}, writing)
        self.assertEqual(403, self.call(OBJECT, IN_BOTH, mw=mw).status_int)
        # Control: an archive that admits the client.
        self.cache['container/AUTH_a/arch'] = \
            proxy_base.headers_to_container_info({
                'x-container-sysmeta-ip-whitelist-allow-x': IN_BOTH}, 200)
        self.assertEqual(201, self.call(OBJECT, IN_BOTH, mw=mw).status_int)

    def test_path_changed_on_the_way_judges_the_original_too(self):
        def rewriting(env, start_response):
            # Another container (no rules there) asked for in its stead.
            env['PATH_INFO'] = ACCOUNT + '/open/o'
            return self.app(env, start_response)
        mw = self.make({'always_allow': ALWAYS}, rewriting)
        self.cache['container/AUTH_a/open'] = \
            proxy_base.headers_to_container_info({}, 200)
        self.assertEqual(403, self.call(OBJECT, IN_ACCOUNT, mw=mw).status_int)
        self.assertEqual(200, self.call(OBJECT, IN_BOTH, mw=mw).status_int)

    def test_writes_judged_before_the_app(self):
        self.assertEqual(403, self.call(OBJECT, OUTSIDE, 'PUT',
                                        cache=self.cache).status_int)
        self.assertEqual([], self.app.asked)

    def test_a_rule_changed_in_the_info_applies_at_once(self):
        # The next request's info (read afresh by the proxy) lists another
        # network: no compiled set of the last one is used for it.
        self.assertEqual(200, self.call(OBJECT, IN_BOTH).status_int)
        self.cache.update(info_cache(ACCOUNT_RULE, IN_ACCOUNT))
        self.assertEqual(403, self.call(OBJECT, IN_BOTH).status_int)
        self.assertEqual(200, self.call(OBJECT, IN_ACCOUNT).status_int)
        self.cache.update(info_cache(None, IN_ACCOUNT))  # account's gone
        self.assertEqual(200, self.call(OBJECT, IN_ACCOUNT).status_int)
        self.assertEqual(403, self.call(OBJECT, IN_BOTH).status_int)

    def test_info_missing_or_failing_is_judged_as_ahead(self):
        # Without the account's info (an autocreated account, a proxy that
        # read only the container's: looked up, as ahead), and with an
        # unreadable or a gone container.
        only_container = {'container/AUTH_a/c': dict(
            self.cache['container/AUTH_a/c'])}
        for cache, client, status in (
                (dict(only_container), OUTSIDE, 403),
                (dict(only_container), IN_CONTAINER, 200),
                (info_cache(ACCOUNT_RULE, CONTAINER_RULE,
                            container_status=503), IN_BOTH, 503),
                (info_cache(ACCOUNT_RULE, CONTAINER_RULE,
                            container_status=404), IN_BOTH, 404)):
            self.app.cache = cache
            self.assertEqual(status, self.call(OBJECT, client).status_int,
                             cache)
        # Control: the account's info there again, the read is judged.
        self.app.cache = self.cache
        self.assertEqual(200, self.call(OBJECT, IN_BOTH).status_int)

    def test_peer_that_is_no_address_is_refused_not_an_error(self):
        for peer in (None, ['192.0.2.1'], ''):
            self.assertEqual(403, self.call(OBJECT, peer).status_int, peer)
        self.assertEqual(200, self.call(OBJECT, IN_BOTH).status_int)


class TestRulesCacheTime(MiddlewareTestCase):

    def test_bad_values_stop_the_proxy(self):
        for value in ('-1', 'soon', 'inf', 'nan', ''):
            error = self.assertRaises(ValueError, self.make,
                                      {'rules_cache_time': value})
            self.assertIn('rules_cache_time', str(error))
            self.assertIn(repr(value), str(error))
        self.assertEqual(0, self.make({}).cache.keep_seconds)  # none kept

    def test_kept_until_expired_forgotten_when_written_here(self):
        # The container's rules as its servers hold them, looked up by the
        # filter (get_container_info) for want of an info in the request.
        stored = {'rule': CONTAINER_RULE}

        def backend(env, start_response):
            headers = []
            if env.get('swift.source') == rule_reader.SWIFT_SOURCE and \
                    env['PATH_INFO'] == CONTAINER and stored['rule']:
                headers.append(('X-Container-Sysmeta-Ip-Whitelist-Allow-X',
                                stored['rule']))
            start_response('204 No Content', headers)
            return [b'']
        mw = self.make({'always_allow': ALWAYS, 'rules_cache_time': '60'},
                       backend)
        clock = [100.0]
        mw.cache.clock = lambda: clock[0]
        self.assertEqual(403, self.call(CONTAINER, IN_ACCOUNT,
                                        mw=mw).status_int)
        # Opened through another proxy: kept rules still apply here ...
        stored['rule'] = None
        self.assertEqual(403, self.call(CONTAINER, IN_ACCOUNT,
                                        mw=mw).status_int)
        clock[0] += 60  # ... until they expire.
        self.assertEqual(204, self.call(CONTAINER, IN_ACCOUNT,
                                        mw=mw).status_int)
        # Closed through this one: applied at once.
        self.assertEqual(204, self.call(CONTAINER, IN_CONTAINER, 'POST', {
            'X-Container-Meta-Allow-Dev': CONTAINER_RULE}, mw=mw).status_int)
        stored['rule'] = CONTAINER_RULE  # what the write stored
        self.assertEqual(403, self.call(CONTAINER, IN_ACCOUNT,
                                        mw=mw).status_int)
        # An info the request holds is read, not what was kept.
        self.assertEqual(204, self.call(CONTAINER, IN_ACCOUNT,
                                        cache=info_cache(), mw=mw).status_int)


class TestOperatorOptions(MiddlewareTestCase):

    def test_bad_values_stop_the_proxy(self):
        for option, value in (
                ('operator_rules', 'SERVICE_'),
                ('operator_rules', 'SERVICE_='),
                ('operator_rules', '=10.0.0.0/8'),
                ('operator_rules', 'SERVICE_=10.1.2.3/8'),
                ('operator_rules', 'SERVICE_=10.0.0.0/8; SERVICE_=::/0'),
                ('operator_rules', 'A B=10.0.0.0/8'),
                ('operator_mode', 'sometimes')):
            error = self.assertRaises(ValueError, self.make, {option: value})
            self.assertIn('invalid %s value' % option, str(error))
            self.assertIn(repr(value), str(error))
        # Controls: good values start it, longest prefix first.
        mw = self.make({'operator_rules': ' AUTH_=10.0.0.0/8 ; AUTH_ops_='
                        '192.0.2.0/24,2001:db8::/32;', 'operator_mode':
                        ' Audit'})
        operator = mw.judge.reader.operator
        self.assertEqual('audit', operator.mode)
        self.assertEqual('192.0.2.0/24,2001:db8::/32',
                         operator.default_for('AUTH_ops_x').text)
        self.assertEqual('10.0.0.0/8', operator.default_for('AUTH_x').text)
        self.assertIsNone(operator.default_for('SERVICE_x'))
        self.assertEqual({}, self.make({}).judge.reader.operator.defaults)


class TestForgetWritten(MiddlewareTestCase):
    """What a write leaves of the proxies' caches of its holder."""

    def write(self, path, method='POST', authorize=fake_auth(True),
              status=2):
        memcache = test_replicas.JsonMemcache()
        holders = ('account/AUTH_a', 'container/AUTH_a/c',
                   'container/AUTH_a/\u00e9t\u00e9')
        for holder in holders:
            memcache.set(holder, {'status': 200, 'sysmeta': {}})
            memcache.set(replicas.cache_key(holder), {'sets': []})
        req = swob.Request.blank(path, environ={'REQUEST_METHOD': method})
        req.environ.update({'REMOTE_ADDR': ALWAYS,
                            'swift.authorize': authorize,
                            'swift.cache': memcache,
                            'swift.infocache': info_cache()})
        self.assertEqual(status, req.get_response(self.mw).status_int // 100)
        info_gone = {h for h in holders if memcache.get(h) is None}
        kept_gone = {h for h in holders
                     if memcache.get(replicas.cache_key(h)) is None}
        self.assertEqual(info_gone, kept_gone)  # both entries, or neither
        return info_gone

    def test_a_write_to_a_holder_drops_both_entries_of_it(self):
        for method in ('POST', 'PUT', 'DELETE'):
            self.assertEqual({'container/AUTH_a/c'},
                             self.write('/v1/AUTH_a/c', method))
        self.assertEqual({'account/AUTH_a'}, self.write('/v1/AUTH_a'))
        self.assertEqual({'container/AUTH_a/\u00e9t\u00e9'},
                         self.write('/v1/AUTH_a/%C3%A9t%C3%A9'))

    def test_a_write_auth_refuses_drops_nothing(self):
        # Else anybody the rules admit could make the next request read
        # every primary, once per refused write.
        for refusal in (swob.HTTPForbidden, swob.HTTPUnauthorized):
            for method in ('POST', 'PUT', 'DELETE'):
                self.assertEqual(set(), self.write(
                    '/v1/AUTH_a/c', method, refusing_auth(refusal),
                    status=4))
            self.assertEqual(set(), self.write(
                '/v1/AUTH_a', 'POST', refusing_auth(refusal), status=4))

    def test_a_denial_then_admitted_drops_both_entries(self):
        # Swift's delayed denial: refused, asked again, admitted, written.
        def delaying_proxy(env, start_response):
            self.assertIsNotNone(env['swift.authorize'](swob.Request(env)))
            self.assertIsNone(env['swift.authorize'](swob.Request(env)))
            start_response('204 No Content', [])
            return [b'']

        self.mw = self.make({'always_allow': ALWAYS}, app=delaying_proxy)
        self.assertEqual({'container/AUTH_a/c'},
                         self.write('/v1/AUTH_a/c', 'POST',
                                    refusing_auth(times=1)))

    def test_a_denial_that_is_not_the_answer_drops_both_entries(self):
        # Something right of the filter asked, was refused, and wrote
        # anyway: only a refusal answered as such proves nothing landed.
        def writing_anyway(env, start_response):
            env['swift.authorize'](swob.Request(env))
            start_response('202 Accepted', [])
            return [b'']

        self.mw = self.make({'always_allow': ALWAYS}, app=writing_anyway)
        self.assertEqual({'container/AUTH_a/c'},
                         self.write('/v1/AUTH_a/c', 'PUT', refusing_auth()))

    def test_a_refusal_answered_without_one_drops_both_entries(self):
        # Only the refusal of the client's own request, when last asked
        # and answered as such, proves nothing landed: not a 403 of
        # another origin (a backend's, after a partial write), not one
        # after a later question admitted, not a subrequest's refusal.
        def no_question(env, start_response):
            start_response('403 Forbidden', [])
            return [b'']

        def refused_then_admitted(env, start_response):
            for _question in range(2):
                env['swift.authorize'](swob.Request(env))
            start_response('403 Forbidden', [])
            return [b'']

        def subrequest_refused(env, start_response):
            sub = swob.Request.blank('/v1/AUTH_a/c2', environ={
                'REQUEST_METHOD': 'PUT',
                'swift.authorize': env['swift.authorize'],
                'swift.infocache': env['swift.infocache']})
            self.assertIsNotNone(sub.environ['swift.authorize'](sub))
            start_response('403 Forbidden', [])
            return [b'']

        for app in (no_question, refused_then_admitted, subrequest_refused):
            self.mw = self.make({'always_allow': ALWAYS}, app=app)
            self.assertEqual({'container/AUTH_a/c'}, self.write(
                '/v1/AUTH_a/c', 'POST', refusing_auth(times=1), status=4),
                app.__name__)

    def test_reads_and_object_writes_drop_nothing(self):
        self.assertEqual(set(), self.write('/v1/AUTH_a/c', 'GET'))
        self.assertEqual(set(), self.write('/v1/AUTH_a/c', 'HEAD'))
        self.assertEqual(set(), self.write('/v1/AUTH_a/c/o', 'PUT'))

    def test_even_when_the_app_raises(self):
        # The write may have landed, even after a refusal: an answer that
        # never started proves nothing.
        def raising(env, start_response):
            env['swift.authorize'](swob.Request(env))
            raise RuntimeError('the proxy broke mid-write')

        self.mw = self.make({'always_allow': ALWAYS}, app=raising)
        for authorize in (fake_auth(True), refusing_auth()):
            memcache = test_replicas.JsonMemcache()
            memcache.set('container/AUTH_a/c', {'status': 200})
            req = swob.Request.blank('/v1/AUTH_a/c',
                                     environ={'REQUEST_METHOD': 'POST'})
            req.environ.update({'REMOTE_ADDR': ALWAYS,
                                'swift.authorize': authorize,
                                'swift.cache': memcache,
                                'swift.infocache': info_cache()})
            self.assertRaises(RuntimeError, req.get_response, self.mw)
            self.assertIsNone(memcache.get('container/AUTH_a/c'))
