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

"""Cost of one ip_whitelist decision, in-process, without mocks.

    python -m benchmarks.swift_decision [--number N] [--repeat R]

The real ``IPWhitelistMiddleware`` in front of a trivial WSGI app. Each
request carries a ``swift.infocache`` holding the account and container
info dicts, shaped by Swift's own ``headers_to_*_info`` with the rules in
sysmeta, so ``get_account_info``/``get_container_info`` answer from the
per-request cache as in a real proxy after its first lookup; the compiled
rules are in the filter's ``RuleCache`` (the "cached" case).

For 1, 10, 100 and 1,000 rules (mixed IPv4/IPv6 networks of many prefix
lengths, packed into values of at most 256 characters as a proxy would
store them) it prints, in µs per request:

* ``lookup``: the client in the compiled rules (``NetworkSet``), allowed
  and ``lookup(denied)``: a client in no rule (every prefix length in use
  probed);
* ``match``: the decision proper, as ``check`` makes it: the compiled
  rules fetched from their cache (key: the rule values) and the client
  looked up in them;
* ``match(no cache)``: the same with the values parsed anew, as without
  the filter's rule cache (the gain that keeps the cache);
* ``rules+match``: the levels read (both info dicts through Swift's
  ``get_*_info``, collecting the values, cache hit) + ``refusal()``;
* ``check``: ``Judge.judge()`` for an allowed client;
* ``check(denied)``: the same for a client no rule covers (every prefix
  length probed), ``check(always)``: a client in always_allow;
* ``swift get_*_info``: Swift's two info lookups alone (part of ``check``);
* ``__call__`` and ``pass-through``: a whole request through the
  middleware and through a filter that only calls the next app, same env;
  ``overhead`` is their difference.

Target (issue 6): <= 5 µs per decision at 1,000 rules, flat in the count.
"""

import argparse
import ipaddress
import random

from swift.common import swob
from swift.proxy.controllers import base as proxy_base

from benchmarks import common
from openstack_ext.swift import decision
from openstack_ext.swift import ip_whitelist
from openstack_ext.swift import replicas
from openstack_ext.swift import rule_reader
from openstack_ext.swift import rules

ACCOUNT, CONTAINER = 'AUTH_bench', 'c'
PATH = '/v1/%s/%s/o' % (ACCOUNT, CONTAINER)
ALLOWED = '203.0.113.77'   # in 203.0.113.64/26, always among the rules
DENIED = '198.51.100.200'  # in no rule
ALWAYS = '127.0.0.1'
RULE_COUNTS = (1, 10, 100, 1000)
MAX_VALUE = 256  # swift.common.constraints.MAX_META_VALUE_LENGTH


def random_networks(count, rng, avoid=()):
    """*count* distinct random networks, about 60 % IPv4, 40 % IPv6."""
    found = set()
    avoid = [ipaddress.ip_network(a) for a in avoid]
    while len(found) < count:
        if rng.random() < 0.6:
            prefix = rng.randint(8, 32)
            number = rng.getrandbits(32) >> (32 - prefix) << (32 - prefix)
            net = ipaddress.IPv4Network((number, prefix))
            if net.is_loopback or net.is_private or net.is_multicast:
                continue
        else:
            prefix = rng.randint(16, 128)
            number = ((0x2001 << 112) | rng.getrandbits(112))
            number = number >> (128 - prefix) << (128 - prefix)
            net = ipaddress.IPv6Network((number, prefix))
        if any(net.overlaps(a) for a in avoid):
            continue
        found.add(net)
    return sorted(found, key=lambda n: (n.version, n))


def pack_values(networks, limit=MAX_VALUE):
    """Rule values of at most *limit* characters, comma separated."""
    values, current = [], ''
    for net in networks:
        item = str(net)
        if current and len(current) + 1 + len(item) > limit:
            values.append(current)
            current = ''
        current = item if not current else current + ',' + item
    if current:
        values.append(current)
    return values


def admitting_values(count, seed):
    """Rule values for *count* random networks, :data:`ALLOWED`'s among them.

    None of them lists :data:`DENIED`.
    """
    rng = random.Random(seed)
    networks = random_networks(count - 1, rng, avoid=('203.0.113.0/24',
                                                      DENIED))
    networks.append(ipaddress.ip_network('203.0.113.64/26'))
    rng.shuffle(networks)
    return pack_values(networks)


def rule_headers(values, kind='container'):
    return {'x-%s-sysmeta-%sr%d' % (kind, rules.SYSMETA_PREFIX, i): v
            for i, v in enumerate(values)}


def infocache(container_values=(), account_values=()):
    account = proxy_base.headers_to_account_info(
        rule_headers(account_values, 'account'), 200)
    container = proxy_base.headers_to_container_info(
        dict(rule_headers(container_values),
             **{'x-container-object-count': '1',
                'x-container-bytes-used': '5',
                'x-backend-storage-policy-index': '0'}), 200)
    # As Swift's memcached info holds them at the default replica_reads:
    # the primaries' sets carried in it, none differing from its own.
    account[replicas.INFO_FIELD] = container[replicas.INFO_FIELD] = []
    return {'account/%s' % ACCOUNT: account,
            'container/%s/%s' % (ACCOUNT, CONTAINER): container}


def downstream(env, start_response):
    start_response('200 OK', [('Content-Length', '0')])
    return [b'']


class PassThrough(object):
    def __init__(self, app):
        self.app = app

    def __call__(self, env, start_response):
        return self.app(env, start_response)


def make_env(client, cache):
    env = swob.Request.blank(PATH, environ={'REQUEST_METHOD': 'GET'}).environ
    env['REMOTE_ADDR'] = client
    env['swift.infocache'] = cache
    return env


def start_response(status, headers, exc_info=None):
    return None


def measure(count, number, repeat):
    values = admitting_values(count, seed=count)
    cache = infocache(values)
    mw = ip_whitelist.IPWhitelistMiddleware(
        downstream, {'always_allow': ALWAYS},
        logger=common.quiet_swift_logger())
    plain = PassThrough(downstream)
    results = {}

    env = make_env(ALLOWED, cache)
    req = swob.Request(env)
    target = rule_reader.target(req.path_info)
    client = mw.client_address(env)

    def check(req, client):
        return mw.judge.judge(req, target, client)

    container_info = cache['container/%s/%s' % (ACCOUNT, CONTAINER)]

    def compiled_rules(found):
        # The one way into the cache, as for a request holding no info:
        # the holder's record checked against what its info says now.
        return mw.cache.rules('bench', lambda: found).networks
    compiled = compiled_rules(container_info)
    assert len(compiled) == count, (len(compiled), count)
    assert check(req, client) is None
    results['lookup'] = common.per_call_us(
        lambda: client in compiled, number, repeat)
    denied = mw.client_address(make_env(DENIED, cache))
    results['lookup(denied)'] = common.per_call_us(
        lambda: denied in compiled, number, repeat)
    results['match'] = common.per_call_us(
        lambda: client in compiled_rules(container_info),
        number, repeat)
    # The same without RuleCache: the values parsed for every request.
    results['match(no cache)'] = common.per_call_us(
        lambda: client in rules.parse_values(tuple(values))[0],
        max(1, number // 50), repeat)
    results['rules+match'] = common.per_call_us(
        lambda: decision.decide(client, mw.judge.reader.levels(req, target),
                                mw.options).refused_by is None,
        number, repeat)
    results['check'] = common.per_call_us(
        lambda: check(req, client), number, repeat)

    denied_req = swob.Request(make_env(DENIED, cache))
    assert check(denied_req, denied).status == 403
    results['check(denied)'] = common.per_call_us(
        lambda: check(denied_req, denied), number, repeat)
    always_env = make_env(ALWAYS, cache)
    always_req = swob.Request(always_env)
    always = mw.client_address(always_env)
    results['check(always)'] = common.per_call_us(
        lambda: check(always_req, always), number, repeat)

    def swift_info():
        proxy_base.get_account_info(env, downstream, swift_source='IPW')
        proxy_base.get_container_info(env, downstream, swift_source='IPW')
    results['swift get_*_info'] = common.per_call_us(
        swift_info, number, repeat)

    template = make_env(ALLOWED, cache)

    def through(app):
        def call():
            app(dict(template), start_response)
        return call
    # Interleave the two so that drift hits both alike.
    calls, passes = [], []
    for _ in range(3):
        calls.append(common.per_call_us(through(mw), number, repeat))
        passes.append(common.per_call_us(through(plain), number, repeat))
    results['__call__'] = min(calls)
    results['pass-through'] = min(passes)
    return len(values), results


def authorizing_app(env, start_response):
    """Downstream as the proxy controller: asks swift.authorize."""
    authorize = env.get('swift.authorize')
    if authorize is not None and authorize(swob.Request(env)) is not None:
        start_response('403 Forbidden', [('Content-Length', '0')])
        return [b'']
    return downstream(env, start_response)


def request_flow(number, repeat):
    """µs per request for the whole flow, the middleware vs pass-through.

    The app right of the filter asks ``swift.authorize`` as the proxy's
    object controller does; 200 rules in 20 values, as in the cluster
    benchmark.
    """
    rng = random.Random(200)
    networks = random_networks(199, rng, avoid=('203.0.113.0/24',))
    networks.append(ipaddress.ip_network('203.0.113.64/26'))
    values = [','.join(str(n) for n in networks[i::20]) for i in range(20)]
    cache = infocache(values)
    template = make_env(ALLOWED, cache)
    conf = {'always_allow': ALWAYS}
    apps = [('pass-through', PassThrough(authorizing_app)),
            ('ip_whitelist', ip_whitelist.IPWhitelistMiddleware(
                authorizing_app, conf, logger=common.quiet_swift_logger()))]
    best = {}
    for _ in range(3):
        for name, app in apps:
            def call(app=app):
                app(dict(template), start_response)
            result = common.per_call_us(call, number, repeat)
            best[name] = min(best.get(name, result), result)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--number', type=int, default=5000,
                        help='calls per timing run (default 5000)')
    parser.add_argument('--repeat', type=int, default=7,
                        help='timing runs, median and min kept (default 7)')
    args = parser.parse_args()
    common.print_environment('ip_whitelist decision cost, in-process')
    print('timing: %d calls x %d runs per figure; µs per call, '
          'median (min); columns: rule count (rule values)' % (
              args.number, args.repeat))
    columns = ('lookup', 'lookup(denied)', 'match', 'match(no cache)',
               'rules+match', 'check', 'check(denied)',
               'check(always)', 'swift get_*_info', '__call__',
               'pass-through')
    summary = {}
    values = {}
    for count in RULE_COUNTS:
        values[count], summary[count] = measure(count, args.number,
                                                args.repeat)
    print('%-17s' % 'rules (values)' + ''.join(
        '%17s' % ('%d (%d)' % (n, values[n])) for n in RULE_COUNTS))
    for column in columns:
        print('%-17s' % column + ''.join(
            '%9.2f (%5.2f)' % summary[n][column] for n in RULE_COUNTS))
    print('%-17s' % 'overhead (min)' + ''.join(
        '%17.2f' % (summary[n]['__call__'][1] -
                    summary[n]['pass-through'][1]) for n in RULE_COUNTS))
    top = summary[RULE_COUNTS[-1]]
    low = summary[RULE_COUNTS[0]]
    print()
    print('summary on the minimum of the runs (least disturbed by other '
          'load on the machine):')
    for name in ('lookup', 'lookup(denied)', 'match', 'rules+match', 'check',
                 '__call__'):
        print('  %-15s at %d rules: %6.2f µs; %d/%d rules ratio %.2f' % (
            name, RULE_COUNTS[-1], top[name][1], RULE_COUNTS[-1],
            RULE_COUNTS[0], top[name][1] / low[name][1]))
    print('the rule cache: match without it / with it, at %s rules: %s' % (
        ' / '.join(str(n) for n in RULE_COUNTS), ' / '.join(
            '%.0f x' % (summary[n]['match(no cache)'][1] /
                        summary[n]['match'][1]) for n in RULE_COUNTS)))
    decision = top['match'][1]
    print('target: decision (match: cached rules + lookup) <= 5 µs at 1,000 '
          'rules: %.2f µs -> %s' % (decision,
                                    'MET' if decision <= 5 else 'NOT MET'))
    print('whole-request overhead at 1,000 rules (__call__ - pass-through): '
          '%.2f µs (Swift get_*_info alone, which the middleware skips '
          'when the request cache holds the info: %.2f µs)' % (
              top['__call__'][1] - top['pass-through'][1],
              top['swift get_*_info'][1]))
    print()
    print('request flow, 200 rules in 20 values, the next app asking '
          'swift.authorize as the proxy does (µs per request, min):')
    flow = request_flow(args.number, args.repeat)
    base = flow['pass-through'][1]
    for name, (_med, low) in flow.items():
        print('  %-20s %8.2f  (+%.2f)' % (name, low, low - base))


if __name__ == '__main__':
    main()
