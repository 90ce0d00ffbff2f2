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

"""An object read through ip_whitelist, with warm and with cold caches.

    python -m benchmarks.swift_cold [--pairs N] [--flush-mb M]

Why ``swift_throughput`` finds the filter costing ten times what the
in-process figures (``swift_decision``, ``swift_calls``) say: in a running
proxy, the filter's code and data have left the CPU caches by its next
request, so each is read from memory again. This runs one object read at a
time through the real ``IPWhitelistMiddleware`` in front of an app that does
what the proxy does before it asks ``swift.authorize`` (the account's and
the container's info, decoded afresh from JSON as from memcache, into the
request's info cache), side by side with the same app alone, request by
request in alternating order. It does so twice: warm, and with the caches
emptied before each request (by writing a buffer larger than the
last-level cache).

Comparisons, each against ``plain`` (the app alone): ``plain_again`` (the
same app: the harness's own bias, A/A), ``noop`` (a filter that only calls
the next app) and ``whitelist`` (200 and 1,000 rules, half on the account
and half on the container, the client admitted). Printed: the median
difference in µs per request with its quartiles and, for the whitelist,
its cold cost over its warm cost. The app does little else, so a ratio of
the times would say nothing of a proxy's throughput (``swift_throughput``
measures that). Nothing is asserted.
"""

import argparse
import json
import time

from swift.common import swob

from benchmarks import common
from benchmarks import swift_decision
from openstack_ext.swift import ip_whitelist

RULES = (200, 1000)


class ProxyLike(object):
    """Reads the infos as the proxy does, then asks ``swift.authorize``."""

    def __init__(self, rule_count):
        cache = swift_decision.infocache(
            swift_decision.admitting_values(rule_count // 2, seed=2),
            swift_decision.admitting_values(rule_count // 2, seed=1))
        self.infocache_json = json.dumps(cache)

    def __call__(self, env, start_response):
        env['swift.infocache'] = json.loads(self.infocache_json)
        authorize = env.get('swift.authorize')
        if authorize is not None:
            denial = authorize(swob.Request(env))
            if denial is not None:
                return denial(env, start_response)
        start_response('200 OK', [('Content-Length', '0')])
        return [b'']


def auth_authorize(req):
    """The auth middleware's ``swift.authorize``: the owner, admitted."""
    return None


def start_response(status, headers, exc_info=None):
    start_response.status = status


def paired(app, baseline, env, pairs, flush):
    """Per-request times of *app* and *baseline*, in alternating order."""
    times = {app: [], baseline: []}
    clock = time.perf_counter
    for each in (app, baseline):  # rules compiled, caches filled
        each(dict(env), start_response)
    for number in range(pairs):
        for each in (app, baseline) if number % 2 else (baseline, app):
            if flush is not None:
                flush[::64] = flush[1::64]  # every cache line written
            request_env = dict(env)
            started = clock()
            each(request_env, start_response)
            times[each].append(clock() - started)
            assert start_response.status.startswith('200'), \
                start_response.status
    return times[app], times[baseline]


def cost(times, baseline_times):
    """Quartiles of the paired differences, in µs: (median, 25 %, 75 %)."""
    differences = sorted((a - b) * 1e6
                         for a, b in zip(times, baseline_times))
    return tuple(differences[int(q * (len(differences) - 1))]
                 for q in (0.5, 0.25, 0.75))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pairs', type=int, default=1500,
                        help='request pairs per comparison and cache state')
    parser.add_argument('--flush-mb', type=int, default=64,
                        help='buffer written before each cold request; '
                             'larger than the last-level cache')
    args = parser.parse_args()
    common.print_environment('ip_whitelist object read, warm and cold caches')
    env = swob.Request.blank(swift_decision.PATH,
                             environ={'REQUEST_METHOD': 'GET'}).environ
    env['REMOTE_ADDR'] = swift_decision.ALLOWED
    # Set by the auth middleware: the proxy asks it with or without the
    # filter, and builds the Request it is asked with either way.
    env['swift.authorize'] = auth_authorize
    flush = bytearray(args.flush_mb << 20)
    costs = {}
    for state, buffer in (('warm', None), ('cold', flush)):
        print('-- %s caches (%d pairs each): cost per request against '
              'plain' % (state, args.pairs))
        for count in RULES:
            plain = ProxyLike(count)
            comparisons = [
                ('plain_again', ProxyLike(count)),
                ('noop', swift_decision.PassThrough(plain)),
                ('whitelist@%d' % count, ip_whitelist.IPWhitelistMiddleware(
                    plain, {'always_allow': swift_decision.ALWAYS},
                    logger=common.quiet_swift_logger()))]
            for name, app in comparisons:
                if name.startswith('plain') and count != RULES[0]:
                    continue
                times, baseline = paired(app, plain, env, args.pairs,
                                         buffer)
                costs[state, name] = median, low, high = cost(times, baseline)
                print('%-16s %+7.1f µs (quartiles %+.1f, %+.1f)'
                      % (name, median, low, high))
    for count in RULES:
        name = 'whitelist@%d' % count
        print('%s: cold %.1f µs / warm %.1f µs = %.1f times' % (
            name, costs['cold', name][0], costs['warm', name][0],
            costs['cold', name][0] / costs['warm', name][0]))


if __name__ == '__main__':
    main()
