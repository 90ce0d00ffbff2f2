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

"""Property tests: the ip_whitelist decision equals a reference model.

Hypothesis draws a configuration (``always_allow``, ``trusted_proxies``,
``deny_without_rules``, ``mode``, ``operator_rules`` for a prefix that
may or may not start the account's name, ``operator_mode``), the
holders' stored modes (audit, enforce, none, or a value that must read as
enforce), the operator's rules and mode stored on the account, account
and container rules (IPv4, IPv6 and
IPv4-mapped networks in several spellings, separator-only and malformed
entries as stored by older middleware), backend statuses, a request path
and method, and a client: ``REMOTE_ADDR`` and an ``X-Forwarded-For`` chain
of plain, mapped, scoped, bracketed and garbage addresses.

The real ``IPWhitelistMiddleware`` answers the request in front of a
trivial app; the account and container info sit in the request's
``swift.infocache`` as Swift's ``headers_to_*_info`` shapes them, so no
mock stands between the test and Swift's ``get_*_info``. When the request
passes, the app also asks the wrapped ``swift.authorize`` about a
subrequest (as SLO, DLO or COPY do) for a second container, with no
``REMOTE_ADDR``. Both answers must equal :func:`model_decision`, written
from the module docstring independently of :mod:`openstack_ext.addresses`,
and nothing may raise. The app asks ``swift.authorize`` about the request
itself first, as Swift's proxy does, or (drawn) answers without asking, as
a middleware with its own authority would: a refused request reaches it
only as an object read left to that question, and then no byte of its
answer leaves.

CI runs a small budget (``OPENSTACK_EXT_HYPOTHESIS_EXAMPLES``, default
300); ``python -m benchmarks.whitelist_properties`` runs the same property
for 100,000 examples or more and reports the count and the mismatches.
"""

import collections
import ipaddress
import logging
import os

import hypothesis
from hypothesis import strategies as st
from swift.common import swob
from swift.common import utils
from swift.common import wsgi
from swift.proxy.controllers import base as proxy_base
import testtools

from openstack_ext.swift import ip_whitelist
from openstack_ext.swift import rule_reader
from openstack_ext.swift import rules as rule_storage

ACCOUNT = 'AUTH_a'
CONTAINER, OTHER = 'c', 'c2'
GONE = (404, 410)
MAPPED = ipaddress.ip_network('::ffff:0:0/96')

# -- the reference model ------------------------------------------------------


def model_address(text):
    """Normalised address per the docstring, or None (garbage)."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value[:1] == '[' and value[-1:] == ']':
        value = value[1:-1]
    value = value.split('%', 1)[0]  # %scope names an interface
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def model_network(network):
    """A network object in its normalised family (mapped -> IPv4)."""
    if network.version == 6 and network.subnet_of(MAPPED):
        return ipaddress.IPv4Network(
            (int(network.network_address) & 0xFFFFFFFF,
             network.prefixlen - 96))
    return network


def model_client(peer, forwarded_for, trusted, always_allow=()):
    """The client per the docstring's "Client address" section."""
    address = model_address(peer)
    if address is None:
        return None
    if not any(address in n for n in trusted):
        if forwarded_for and any(address in n for n in always_allow):
            return None  # an always-allowed peer forwarding, untrusted
        return address
    if not forwarded_for:
        return None  # a trusted proxy that does not say for whom
    for hop in reversed(forwarded_for.split(',')):
        address = model_address(hop)
        if address is None:
            return None
        if not any(address in n for n in trusted):
            return address
    return None  # every hop a trusted proxy: for whom, unknown


Example = collections.namedtuple('Example', [
    'always_allow', 'trusted', 'deny_without_rules', 'account_status',
    'account_rules', 'containers', 'method', 'path', 'peer',
    'forwarded_for', 'asks', 'proxy_mode', 'modes', 'operator_prefix',
    'operator_default', 'operator_mode', 'operator_rules'])
# containers: {name: (status, [Rule])}
# modes: {holder ('a', 'op' for the operator's level stored on the
# account, or a container's name): stored mode value or None}
# operator_default: [networks] of operator_rules for operator_prefix, or
# None; operator_rules: [Rule] stored on the account (as sysmeta).
# Rule: (name, stored as sysmeta?, value text, [networks], has entries?)
Rule = collections.namedtuple('Rule', 'name sysmeta text networks')


def _model_info(status, rules, for_object):
    """Rules of one info dict, or the answer when it cannot vouch.

    Returns ``(rules, None)`` or ``(None, status to answer)``.
    """
    if status // 100 == 2:
        return list(rules), None
    if status in GONE:
        # Nothing there to protect; but object servers would serve an
        # object whatever the databases say (rules() says so): 404.
        return (None, 404) if for_object else ([], None)
    return None, 503  # rules that cannot be read: fail closed


def model_decision(ex, container, client, for_object):
    """200 (passes), 403, 404 or 503 for *client* on *container*.

    *container* ``None``: a request on the account itself. Levels are
    judged outermost first: once the account's rules refuse the client,
    nothing about the container (whether it exists, whether its rules
    can be read) changes the answer.
    """
    if client is not None and any(client in n for n in ex.always_allow):
        return 200

    def ruled(level):
        # A level has rules when one of its values is not empty.
        return [r for r in level if r.text]

    def refuses(level):
        level = ruled(level)
        return bool(level) and (client is None or not any(
            client in n for r in level for n in r.networks))

    def enforced(holder):
        # The proxy's audit mode audits all; a holder audits its own rules
        # when its mode is exactly 'audit' (anything else enforces).
        return ex.proxy_mode != 'audit' and ex.modes.get(holder) != 'audit'

    def operator():
        """The operator's level: (rules, enforced?)."""
        exists = ex.account_status // 100 == 2
        stored = ruled(ex.operator_rules) if exists else []
        if not stored and ex.operator_default is not None and \
                ACCOUNT.startswith(ex.operator_prefix):
            stored = [Rule('default', True, 'x', ex.operator_default)]
        mode = ex.modes['op'] if exists and ex.modes['op'] else None
        if mode is not None:
            mode = 'audit' if mode == 'audit' else 'enforce'
        mode = mode or ex.operator_mode
        return stored, ex.proxy_mode != 'audit' and mode != 'audit'

    account_rules, answer = _model_info(ex.account_status, ex.account_rules,
                                        for_object)
    if answer is not None and answer != 404:
        return answer  # unreadable: before any level
    operator_rules, operator_enforced = operator()
    if refuses(operator_rules) and operator_enforced:
        return 403  # outermost, whether the account exists or not
    if answer is not None:
        return answer
    if refuses(account_rules) and enforced('a'):
        return 403
    levels = [account_rules]
    if container is not None and ex.account_status // 100 == 2:
        status, container_rules = ex.containers[container]
        more, answer = _model_info(status, container_rules, for_object)
        if answer is not None:
            return answer
        if refuses(more) and enforced(container):
            return 403
        levels.append(more)
    if not any(ruled(level) for level in levels):
        return 403 if ex.deny_without_rules and container is not None \
            and ex.proxy_mode != 'audit' else 200
    return 200


def model_object_read(ex):
    """Whether the request is an object read (judged at the question)."""
    segments = ex.path.split('/')
    return ex.method in ('GET', 'HEAD') and len(segments) > 4 and \
        segments[1] in ('v1', 'v1.0') and all(segments[2:4]) and \
        any(segments[4:])


def model_request(ex):
    """Expected status of the request itself."""
    segments = ex.path.split('/')
    if len(segments) < 3 or segments[1] not in ('v1', 'v1.0') \
            or not segments[2]:
        return 200  # no account: /info, auth
    client = model_client(ex.peer, ex.forwarded_for, ex.trusted,
                          ex.always_allow)
    if len(segments) < 4 or not segments[3]:
        status = model_decision(ex, None, client, False)  # the account
        if status == 200 and ex.asks and ex.method == 'DELETE' and \
                ex.account_status // 100 == 2 and ex.containers and not (
                    client is not None and
                    any(client in n for n in ex.always_allow)):
            return 403  # its containers' rules would go with it
        return status
    for_object = len(segments) > 4 and any(segments[4:])
    return model_decision(ex, CONTAINER, client, for_object)


# -- strategies -------------------------------------------------------------

V4_ANCHORS = ('203.0.113.0', '198.51.100.0', '10.0.0.0', '127.0.0.0',
              '0.0.0.0', '255.255.255.0')
V6_ANCHORS = ('2001:db8::', 'fe80::', '::', '::ffff:203.0.113.0',
              '::ffff:127.0.0.0', '2001:db8:5::', 'ffff::')


@st.composite
def networks(draw):
    """A network near one of a few anchors, so that rules and clients meet.

    Drawn in both families; an IPv6 network inside ::ffff:0:0/96 stands for
    the IPv4 network it carries.
    """
    if draw(st.booleans()):
        base = int(ipaddress.IPv4Address(draw(st.sampled_from(V4_ANCHORS))))
        prefix = draw(st.integers(0, 32))
        number = base | draw(st.integers(0, 255))
        mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        return ipaddress.IPv4Network((number & mask, prefix))
    base = int(ipaddress.IPv6Address(draw(st.sampled_from(V6_ANCHORS))))
    prefix = draw(st.sampled_from((0, 16, 48, 64, 95, 96, 100, 120, 124,
                                   127, 128)) | st.integers(0, 128))
    number = base | draw(st.integers(0, 2 ** 16 - 1))
    mask = ((2 ** 128 - 1) << (128 - prefix)) & (2 ** 128 - 1)
    return ipaddress.IPv6Network((number & mask, prefix))


def _v6_spellings(address):
    text = str(address)
    return [text, address.exploded, text.upper(), '[%s]' % text]


@st.composite
def network_text(draw, network):
    """One way an owner may write *network*."""
    spellings = []
    if network.version == 4:
        spellings.append(str(network))
        spellings.append('::ffff:%s/%d' % (network.network_address,
                                           network.prefixlen + 96))
        if network.prefixlen == 32:
            spellings.append(str(network.network_address))
    else:
        spellings += ['%s/%d' % (s, network.prefixlen)
                      for s in _v6_spellings(network.network_address)]
        if network.prefixlen == 128:
            spellings += _v6_spellings(network.network_address)
    return draw(st.sampled_from(spellings))


GARBAGE_WORDS = ('1.2.3', '256.1.1.1', '1.2.3.4.5', '::g', 'abc', '-',
                 '1.2.3.4/', '/8', ':::', '1.2.3.4:80', '[::1]:80',
                 '1.2.3.4/x', '1.2.3.4/-1', '::ffff:999.0.0.1', 'unknown',
                 '0x7f000001', '2130706433', '1.2.3.4/33', '::1/129',
                 '::ffff:1.2.3.0/95', '2001:db8::/-1', '\u0661.2.3.4')


@st.composite
def garbage_entry(draw):
    """An entry that is no address or network: ignored if stored."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.sampled_from(GARBAGE_WORDS))
    if kind == 1:  # host bits set
        network = draw(networks().filter(
            lambda n: n.prefixlen < n.max_prefixlen))
        host = network.network_address + draw(
            st.integers(1, min(network.num_addresses - 1, 2 ** 20)))
        return '%s/%d' % (host, network.prefixlen)
    return draw(st.text(alphabet='ghijklmnopqrstuvwxyz!@#$^&*()_=+~',
                        min_size=1, max_size=8))


@st.composite
def rule(draw, name, for_infocache=True):
    """A stored rule: ``Rule(name, sysmeta?, text, networks)``."""
    entries, found = [], []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 5)) == 0:
            entries.append(draw(garbage_entry()))
        else:
            network = draw(networks())
            entries.append(draw(network_text(network)))
            found.append(model_network(network))
    separator = draw(st.sampled_from((',', ' ', ', ', ' ,  ')))
    text = separator.join(entries)
    if not entries and draw(st.booleans()):
        text = draw(st.sampled_from((',', ', ,', ',,')))  # lists nobody
    return Rule(name, draw(st.booleans()), text, found)


@st.composite
def rule_set(draw, prefix):
    count = draw(st.integers(0, 3))
    return [draw(rule('%s%d' % (prefix, i))) for i in range(count)]


@st.composite
def address_in(draw, network):
    offset = draw(st.integers(0, min(network.num_addresses - 1, 2 ** 32)))
    if draw(st.integers(0, 3)) == 0:
        offset = network.num_addresses - 1  # broadcast / last
    return network.network_address + offset


@st.composite
def address_text(draw, near=()):
    """A client or hop address as a server may receive it, or garbage."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.sampled_from(GARBAGE_WORDS + ('', ' ')))
    if near and choice < 6:
        address = draw(address_in(draw(st.sampled_from(near))))
        if draw(st.integers(0, 4)) == 0:  # next to the network's edge
            try:
                address += draw(st.sampled_from((-1, 1)))
            except ipaddress.AddressValueError:
                pass
    else:
        address = draw(address_in(draw(networks())))
    if address.version == 4:
        text = draw(st.sampled_from((
            str(address), '::ffff:%s' % address,
            str(ipaddress.IPv6Address('::ffff:%s' % address)),
            '::FFFF:%s' % address)))
    else:
        text = draw(st.sampled_from(_v6_spellings(address) + [
            '%s%%eth0' % address, '%s%%1' % address]))
    return text


@st.composite
def examples(draw):
    always_allow = draw(st.lists(networks(), max_size=2))
    trusted = draw(st.lists(networks(), max_size=2))
    account_rules = draw(rule_set('a'))
    containers = {name: (draw(st.sampled_from((200, 200, 200, 204, 404,
                                               410, 400, 500, 503, 0))),
                         draw(rule_set(name)))
                  for name in (CONTAINER, OTHER)}
    operator_default = draw(st.one_of(st.none(), st.lists(
        networks(), min_size=1, max_size=2).map(
            lambda nets: [model_network(n) for n in nets])))
    operator_rules = draw(rule_set('op'))
    near = ([model_network(n) for n in always_allow + trusted]
            + (operator_default or [])
            + [n for r in account_rules + operator_rules
               for n in r.networks]
            + [n for _s, rs in containers.values() for r in rs
               for n in r.networks])
    near = tuple(n for n in near if n.num_addresses > 0)
    peer = draw(address_text(near))
    forwarded_for = None
    if draw(st.booleans()):
        hops = draw(st.lists(address_text(near), min_size=1, max_size=4))
        forwarded_for = draw(st.sampled_from((',', ', '))).join(hops)
    path = draw(st.sampled_from((
        '/v1/%s/%s/o' % (ACCOUNT, CONTAINER),
        '/v1/%s/%s/o/with/slashes' % (ACCOUNT, CONTAINER),
        '/v1/%s/%s' % (ACCOUNT, CONTAINER),
        '/v1.0/%s/%s/o' % (ACCOUNT, CONTAINER),
        '/v1/%s/%s/' % (ACCOUNT, CONTAINER),
        '/v1/%s' % ACCOUNT, '/v1/%s/' % ACCOUNT, '/info', '/auth/v1.0',
        '/v2/%s/%s/o' % (ACCOUNT, CONTAINER))))
    return Example(
        always_allow=[model_network(n) for n in always_allow],
        trusted=[model_network(n) for n in trusted],
        deny_without_rules=draw(st.booleans()),
        account_status=draw(st.sampled_from((200, 200, 200, 204, 404,
                                             410, 400, 503, 500))),
        account_rules=account_rules, containers=containers,
        method=draw(st.sampled_from(('GET', 'HEAD', 'PUT', 'POST',
                                     'DELETE'))),
        path=path, peer=peer, forwarded_for=forwarded_for,
        asks=draw(st.booleans()),
        proxy_mode=draw(st.sampled_from(('enforce', 'enforce', 'audit'))),
        modes={holder: draw(st.sampled_from((
            None, None, 'audit', 'enforce', 'AUDIT', 'garbage')))
            for holder in ('a', 'op', CONTAINER, OTHER)},
        operator_prefix=draw(st.sampled_from(('AUTH_', ACCOUNT,
                                              'SERVICE_'))),
        operator_default=operator_default,
        operator_mode=draw(st.sampled_from(('enforce', 'audit'))),
        operator_rules=operator_rules)


# -- driving the real middleware ---------------------------------------------


def _config_text(nets, rendered):
    return ', '.join(rendered(n) for n in nets)


def _rule_headers(kind, rules):
    headers = {}
    for r in rules:
        if r.sysmeta:
            prefix = 'x-%s-sysmeta-%s' % (kind, rule_storage.SYSMETA_PREFIX)
        else:
            prefix = 'x-%s-meta-%s' % (kind, rule_storage.RULE_PREFIX)
        key = prefix + r.name
        headers[key] = swob.str_to_wsgi(r.text)
    return headers


def _mode_header(kind, mode):
    if mode is None:
        return {}
    return {'x-%s-sysmeta-ip-whitelist-mode' % kind: mode}


def _operator_headers(ex):
    headers = {'x-account-sysmeta-ip-whitelist-operator-allow-' + r.name:
               swob.str_to_wsgi(r.text) for r in ex.operator_rules}
    if ex.modes['op'] is not None:
        headers['x-account-sysmeta-ip-whitelist-operator-mode'] = \
            ex.modes['op']
    return headers


def build_infocache(ex):
    cache = {'account/%s' % ACCOUNT: proxy_base.headers_to_account_info(
        dict(_rule_headers('account', ex.account_rules),
             **_mode_header('account', ex.modes['a']),
             **_operator_headers(ex)), ex.account_status)}
    for name, (status, rules) in ex.containers.items():
        cache['container/%s/%s' % (ACCOUNT, name)] = \
            proxy_base.headers_to_container_info(
                dict(_rule_headers('container', rules),
                     **_mode_header('container', ex.modes[name])), status)
    return cache


class _Recorder(object):
    """The app right of ip_whitelist: records what reached it.

    With *asks*, it first asks ``swift.authorize`` about the request, as
    Swift's proxy does, and answers a refusal with it.
    """

    def __init__(self, asks, account_status=200, container_count=0):
        self.asks = asks
        self.account_status = account_status
        self.container_count = container_count
        self.called = False
        self.sub_status = None

    def __call__(self, env, start_response):
        if env.get('swift.source') == rule_reader.SWIFT_SOURCE:
            # The filter's own look at the account: its containers.
            start_response('%d Fake' % self.account_status, [
                ('X-Account-Container-Count', str(self.container_count))])
            return [b'']
        authorize = env.get('swift.authorize')
        if self.asks and authorize is not None:
            env['swift_owner'] = True  # as auth says of the owner
            denial = authorize(swob.Request(env))
            if denial is not None:
                return denial(env, start_response)
        self.called = True
        sub = wsgi.make_subrequest(
            env, method='GET', path='/v1/%s/%s/segment' % (ACCOUNT, OTHER),
            swift_source='TEST')
        assert 'REMOTE_ADDR' not in sub.environ
        denial = authorize(sub) if authorize else None
        self.sub_status = 200 if denial is None else denial.status_int
        start_response('200 OK', [('Content-Length', '2')])
        return [b'ok']


_LOGGER = []


def _logger():
    """A real Swift logger (statsd methods included) that emits nothing."""
    if not _LOGGER:
        logger = utils.get_logger({'log_level': 'INFO'},
                                  log_route='ip_whitelist_properties',
                                  statsd_tail_prefix='ip_whitelist')
        for handler in list(logger.logger.handlers):
            logger.logger.removeHandler(handler)
            handler.close()
        logger.logger.addHandler(logging.NullHandler())
        _LOGGER.append(logger)
    return _LOGGER[0]


def run_example(ex):
    """Return a list of mismatch descriptions (empty: model agrees)."""
    app = _Recorder(ex.asks, ex.account_status, len(ex.containers))
    conf = {'always_allow': _config_text(ex.always_allow, str),
            'trusted_proxies': _config_text(ex.trusted, str),
            'deny_without_rules': str(ex.deny_without_rules),
            'mode': ex.proxy_mode, 'operator_mode': ex.operator_mode,
            # The recorder has no rings (test_replicas reads replicas).
            'replica_reads': 'false'}
    if ex.operator_default is not None:
        conf['operator_rules'] = '%s=%s' % (
            ex.operator_prefix, _config_text(ex.operator_default, str))
    mw = ip_whitelist.IPWhitelistMiddleware(app, conf, logger=_logger())
    env = swob.Request.blank(
        ex.path, environ={'REQUEST_METHOD': ex.method}).environ
    env['REMOTE_ADDR'] = ex.peer
    if ex.forwarded_for is not None:
        env['HTTP_X_FORWARDED_FOR'] = ex.forwarded_for
    env['swift.infocache'] = build_infocache(ex)
    captured = []

    def start_response(status, headers, exc_info=None):
        captured.append(int(status.split()[0]))
    body = b''.join(mw(env, start_response))
    problems = []
    expected = model_request(ex)
    if captured != [expected]:
        problems.append('request: middleware %s, model %s' % (
            captured, expected))
    # Only an object read that the app answers without asking may reach it
    # refused; its answer is then replaced (status and body checks).
    may_reach_refused = not ex.asks and model_object_read(ex)
    if app.called != (expected == 200) and not (
            app.called and may_reach_refused):
        problems.append('downstream reached: %s, model status %s' % (
            app.called, expected))
    if expected != 200 and b'ok' in body:
        problems.append('denied request got the body %r' % body)
    if app.called and expected == 200:
        # Judged by the original client's address (or, for a request
        # without a container, the client the wrapper was given).
        client = model_client(ex.peer, ex.forwarded_for, ex.trusted,
                              ex.always_allow)
        sub_expected = model_decision(ex, OTHER, client, True)
        if app.sub_status != sub_expected:
            problems.append('subrequest: middleware %s, model %s (client '
                            '%s)' % (app.sub_status, sub_expected, client))
    return problems


def describe(ex, problems):
    return '%s\n%s' % ('\n'.join(problems), '\n'.join(
        '  %s = %r' % item for item in ex._asdict().items()))


def property_settings(max_examples):
    return hypothesis.settings(
        max_examples=max_examples, deadline=None, database=None,
        derandomize=False, print_blob=True,
        phases=(hypothesis.Phase.explicit, hypothesis.Phase.reuse,
                hypothesis.Phase.generate, hypothesis.Phase.shrink),
        suppress_health_check=list(hypothesis.HealthCheck))


CI_EXAMPLES = int(os.environ.get('OPENSTACK_EXT_HYPOTHESIS_EXAMPLES', 300))


class TestWhitelistProperties(testtools.TestCase):

    @property_settings(CI_EXAMPLES)
    @hypothesis.given(examples())
    def test_decision_matches_model(self, ex):
        problems = run_example(ex)
        self.assertEqual([], problems, describe(ex, problems))

    def test_model_examples(self):
        # The model itself, on the docstring's own cases.
        self.assertEqual(ipaddress.ip_address('192.0.2.1'),
                         model_address('::ffff:192.0.2.1'))
        self.assertEqual(ipaddress.ip_address('fe80::1'),
                         model_address('fe80::1%eth0'))
        self.assertIsNone(model_address('10.1.2.3/16'))
        trusted = [ipaddress.ip_network('192.0.2.10/32')]
        self.assertEqual(
            ipaddress.ip_address('198.51.100.7'),
            model_client('192.0.2.10', '203.0.113.1, 198.51.100.7',
                         trusted))
        self.assertEqual(ipaddress.ip_address('203.0.113.9'),
                         model_client('203.0.113.9', '198.51.100.7',
                                      trusted))
        self.assertIsNone(model_client('192.0.2.10', 'nonsense', trusted))
