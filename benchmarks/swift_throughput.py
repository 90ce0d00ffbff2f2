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

"""Swift proxy throughput with and without ip_whitelist, side by side.

    python -m benchmarks.swift_throughput [--clusters 3] [--rounds 60]

One real loopback cluster (memcached, account, container and object
servers) and proxies on the same backends and memcache, identical but for
their pipelines (all at log_level INFO, one worker):

* ``whitelist``: with ``ip_whitelist``;
* ``plain``: without it, the baseline;
* ``plain_again``: identical to ``plain``, the A/A control: its ratio to
  ``plain`` shows how far from 1.000 two identical proxies measure here;
* ``noop``: a filter in ip_whitelist's place that only calls the next
  app: what one more filter in the pipeline costs, and a second control.

A container protected by 200 rules (IPv4 and IPv6 networks of many prefix
lengths, in 20 ``allow-*`` values set by the owner through the
middleware) holds a 1 KiB object. The client is bound to 127.0.0.5, which
only a rule allows (``always_allow = auto`` covers 127.0.0.1 only), so every
request takes the rule-matching path; 127.0.0.9 is checked to be refused.

Requests are interleaved: a round gives every proxy, for GET and for HEAD,
several turns of a short block of requests in a new shuffled order each
turn, on one keep-alive connection per proxy, so the proxies compared are
never more than a few milliseconds apart and background load (the machine
may be shared) falls on all of them alike. With two CPUs or more the
proxies share one CPU and the client, servers and memcached the others
(``--no-pin`` to leave placement to the kernel): every proxy then runs
under the same conditions, which otherwise depend on where the scheduler
happens to put each process. Several clusters are started one after the
other (``--clusters``) and their rounds pooled.

Per round and method the with/without ratio of requests per second is
paired; the script prints every round, then per method: the overall rates,
the median latencies and their ratio (robust to bursts of background load),
and the median of the paired ratios with a ~95 % interval. Target
(issue 6): ratio >= 0.97.

``--profile`` adds proxies running the experimental variants of
``benchmarks/ipw_variants.py`` (same rules, same client), each compared
with the plain proxy, to show what each part of the middleware costs.
"""

import argparse
import http.client
import ipaddress
import os
import random
import statistics
import sys
import time

from benchmarks import common
from benchmarks import swift_decision
from tests.functional.swift import cluster as swift_cluster

CLIENT = '127.0.0.5'
OUTSIDER = '127.0.0.9'
CONTAINER = 'bench'
OBJECT = 'obj'
BODY = bytes(range(256)) * 4
VARIANTS = ('whitelist', 'plain', 'plain_again', 'noop')
# --profile: ip_whitelist variants of benchmarks/ipw_variants.py
PROFILE_VARIANTS = ('cache_nocopy', 'rules_for_1s')
CONTROLS = ('plain', 'plain_again', 'noop')  # no rules enforced
METHODS = ('GET', 'HEAD')


def two_hundred_rules(seed=200):
    """20 values holding 200 networks, one of them covering CLIENT."""
    rng = random.Random(seed)
    networks = swift_decision.random_networks(
        199, rng, avoid=('127.0.0.0/8',))
    networks.append(ipaddress.ip_network('127.0.0.4/30'))
    rng.shuffle(networks)
    return {'X-Container-Meta-Allow-r%02d' % i: ','.join(
        str(n) for n in networks[i::20]) for i in range(20)}


def start_cluster(variants, log_level='INFO'):
    specs = {
        'whitelist': swift_cluster.ProxySpec(log_level=log_level),
        'plain': swift_cluster.ProxySpec(
            pipeline=swift_cluster.PLAIN_PIPELINE, log_level=log_level),
    }
    if set(variants) - set(specs):
        # The proxies import benchmarks.ipw_variants from this tree.
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        os.environ['PYTHONPATH'] = os.pathsep.join(
            [top] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    if 'plain_again' in variants:  # A/A control: what "no difference" is
        specs['plain_again'] = swift_cluster.ProxySpec(
            pipeline=swift_cluster.PLAIN_PIPELINE, log_level=log_level)
    for name in variants:
        if name not in specs:
            use = {'use': 'call:benchmarks.ipw_variants:' + name}
            specs[name] = swift_cluster.ProxySpec(log_level=log_level,
                                                  whitelist=use)
    cluster = swift_cluster.SwiftCluster(specs)
    cluster.setUp()
    return cluster


def separate_cpus(cluster, proxies):
    """Put *proxies* on one CPU, this client and the servers on the others.

    :returns: a line saying where each runs, or ``None`` with a single CPU.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    proxy_cpus, other_cpus = set(cpus[-1:]), set(cpus[:-1])
    for name, proc in cluster.procs.items():
        where = proxy_cpus if name in proxies else other_cpus
        # Every thread of the server, not only its main one.
        for task in os.listdir('/proc/%d/task' % proc.pid):
            os.sched_setaffinity(int(task), where)
    os.sched_setaffinity(0, other_cpus)
    return 'CPU placement: proxies on %s; client, servers, memcached on %s' % (
        sorted(proxy_cpus), sorted(other_cpus))


def prepare(cluster, variants):
    token = cluster.token()
    base = '/v1/%s/%s' % (swift_cluster.ACCOUNT, CONTAINER)
    owner = {'X-Auth-Token': token}
    admin = {'proxy': 'whitelist', 'source': '127.0.0.1'}
    checks = [
        cluster.request('PUT', base, headers=owner, **admin),
        cluster.request('POST', base, **dict(
            admin, headers=dict(owner, **two_hundred_rules()))),
        cluster.request('PUT', base + '/' + OBJECT, body=BODY,
                        headers=owner, **admin),
    ]
    for resp in checks:
        if resp.status // 100 != 2:
            raise RuntimeError('setup failed: %r' % (resp,))
    shown = cluster.request('HEAD', base, headers=owner, **admin)
    rules = sum(len(v.split(',')) for k, v in shown.headers.items()
                if k.lower().startswith('x-container-meta-allow-'))
    path = base + '/' + OBJECT
    for proxy in variants:
        resp = cluster.request('GET', path, headers=owner, proxy=proxy,
                               source=CLIENT)
        if resp.status != 200 or resp.body != BODY:
            raise RuntimeError('%s did not serve %s: %r' % (
                proxy, CLIENT, resp))
    for proxy in variants:
        resp = cluster.request('GET', path, headers=owner, source=OUTSIDER,
                               proxy=proxy)
        if resp.status != (200 if proxy in CONTROLS else 403):
            raise RuntimeError('rules not in force on %s: %r' % (
                proxy, resp))
    return path, token, rules


class Client(object):
    """One keep-alive connection from CLIENT to one proxy."""

    def __init__(self, cluster, proxy, path, token):
        self.cluster, self.proxy = cluster, proxy
        self.path, self.headers = path, {'X-Auth-Token': token}
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(
            '127.0.0.1', self.cluster.ports[self.proxy],
            source_address=(CLIENT, 0), timeout=30)

    def block(self, method, count, latencies=None):
        """Send *count* requests; return (seconds, errors)."""
        errors = 0
        clock = time.perf_counter
        start = clock()
        for _ in range(count):
            if self.conn is None:
                self._connect()
            begin = clock()
            try:
                self.conn.request(method, self.path, headers=self.headers)
                resp = self.conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                errors += 1
                continue
            if latencies is not None:
                latencies.append(clock() - begin)
            if resp.status != 200 or (method == 'GET' and body != BODY):
                errors += 1
        return clock() - start, errors

    def close(self):
        if self.conn is not None:
            self.conn.close()


def run(cluster, variants, path, token, rounds, turns, block, max_seconds,
        seed):
    """Interleaved shuffled blocks; per-round rates and every latency.

    A round is, for GET and for HEAD, *turns* turns in each of which every
    proxy gets one block of *block* requests, in a new shuffled order: the
    proxies compared are never more than a few blocks apart in time, so a
    burst of background load falls on all of them alike.
    """
    clients = {p: Client(cluster, p, path, token) for p in variants}
    for proxy in variants:  # warm up connections, caches, interpreters
        for method in METHODS:
            clients[proxy].block(method, max(20, block))
    deadline = time.monotonic() + max_seconds
    rng = random.Random(seed)
    keys = [(v, m) for v in variants for m in METHODS]
    rates = {k: [] for k in keys}
    latencies = {k: [] for k in keys}
    totals = {k: [0, 0.0] for k in keys}
    errors = completed = 0
    print('req/s per round (%d turns x %d requests per proxy); columns: %s'
          % (turns, block, ', '.join('%s %s' % k for k in keys)))
    sys.stdout.flush()
    for number in range(rounds):
        if time.monotonic() > deadline:
            print('time limit (%ss) reached after %d rounds' % (
                max_seconds, number))
            break
        seconds = dict.fromkeys(keys, 0.0)
        for method in rng.sample(METHODS, len(METHODS)):
            for _turn in range(turns):
                for variant in rng.sample(variants, len(variants)):
                    key = variant, method
                    took, errs = clients[variant].block(method, block,
                                                        latencies[key])
                    errors += errs
                    seconds[key] += took
        for key in keys:
            rates[key].append(turns * block / seconds[key])
            totals[key][0] += turns * block
            totals[key][1] += seconds[key]
        completed += 1
        print('%5d  ' % number + '  '.join(
            '%7.1f' % rates[k][-1] for k in keys))
    for c in clients.values():
        c.close()
    return rates, latencies, totals, errors, completed


def report(variants, rates, latencies, totals, errors, completed):
    print()
    print('rounds completed: %d; errors (non-200, wrong body, connection): '
          '%d' % (completed, errors))
    verdicts = []
    for variant in variants:
        if variant == 'plain':
            continue
        print('-- %s vs plain' % variant)
        for method in METHODS:
            ratios = [w / p for w, p in zip(rates[variant, method],
                                            rates['plain', method])]
            if not ratios:
                continue
            med, low, high = common.median_ci(ratios)
            tot = {v: totals[v, method][0] / totals[v, method][1]
                   for v in (variant, 'plain')}
            lat = {v: statistics.median(latencies[v, method]) * 1e3
                   for v in (variant, 'plain')}
            print('%-4s requests: %s %d, plain %d' % (
                method, variant, totals[variant, method][0],
                totals['plain', method][0]))
            print('%-4s req/s overall: %s %.1f, plain %.1f -> ratio %.3f' % (
                method, variant, tot[variant], tot['plain'],
                tot[variant] / tot['plain']))
            print('%-4s median latency: %s %.3f ms, plain %.3f ms -> '
                  'throughput-equivalent ratio %.3f (%+.0f µs per request)'
                  % (method, variant, lat[variant], lat['plain'],
                     lat['plain'] / lat[variant],
                     (lat[variant] - lat['plain']) * 1e3))
            print('%-4s paired-round req/s ratio: median %.3f over %d rounds '
                  '(~95%% interval %.3f-%.3f)' % (method, med, len(ratios),
                                                  low, high))
            if variant == 'whitelist':
                verdicts.append(med)
    if verdicts:
        worst = min(verdicts)
        print('target: with/without throughput >= 0.97: worst paired '
              'median %.3f -> %s' % (
                  worst, 'MET' if worst >= 0.97 else 'NOT MET'))


def quick_ratios(variants, rates):
    """One line: the median paired ratio of each variant, per method."""
    return ', '.join('%s %s %.3f' % (v, m, statistics.median(
        [a / b for a, b in zip(rates[v, m], rates['plain', m])]))
        for v in variants if v != 'plain' for m in METHODS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--clusters', type=int, default=3,
                        help='clusters started one after the other, their '
                             'rounds pooled (default 3)')
    parser.add_argument('--rounds', type=int, default=60,
                        help='rounds per cluster (default 60)')
    parser.add_argument('--turns', type=int, default=5,
                        help='turns per round and method (default 5)')
    parser.add_argument('--block', type=int, default=5,
                        help='requests per proxy and turn (default 5)')
    parser.add_argument('--max-seconds', type=float, default=300,
                        help='stop measuring a cluster after this long '
                             '(default 300)')
    parser.add_argument('--seed', type=int, default=6)
    parser.add_argument('--no-pin', action='store_true',
                        help='leave the placement of processes on CPUs to '
                             'the kernel')
    parser.add_argument('--profile', action='store_true',
                        help='add proxies running the experimental variants '
                             'of benchmarks/ipw_variants.py')
    args = parser.parse_args()
    variants = VARIANTS + (PROFILE_VARIANTS if args.profile else ())
    common.print_environment('Swift proxy throughput, ip_whitelist vs '
                             'plain pipeline', packages=('swift',))
    keys = [(v, m) for v in variants for m in METHODS]
    pooled = ({k: [] for k in keys}, {k: [] for k in keys},
              {k: [0, 0.0] for k in keys}, 0, 0)
    own_cpus = os.sched_getaffinity(0)
    for number in range(args.clusters):
        cluster = start_cluster(variants)
        try:
            placement = None if args.no_pin else separate_cpus(cluster,
                                                               variants)
            path, token, rules = prepare(cluster, variants)
            print('\n== cluster %d of %d: %d proxies (%s; 1 worker each, '
                  'log_level INFO) on shared account/container/object '
                  'servers and memcached' % (
                      number + 1, args.clusters, len(variants),
                      ', '.join(variants)))
            print(placement or 'CPU placement: left to the kernel')
            print('container: %d rules in 20 values; client %s allowed by '
                  'a rule, %s refused (checked); object %d bytes' % (
                      rules, CLIENT, OUTSIDER, len(BODY)))
            print('plan: %d rounds; per round and method, %d turns of %d '
                  'requests to each proxy in a new shuffled order; '
                  'keep-alive, sequential' % (args.rounds, args.turns,
                                              args.block))
            result = run(cluster, variants, path, token, args.rounds,
                         args.turns, args.block, args.max_seconds,
                         args.seed + number)
        finally:
            cluster.cleanUp()
            os.sched_setaffinity(0, own_cpus)
        print('cluster %d median paired ratios: %s' % (
            number + 1, quick_ratios(variants, result[0])))
        for key in keys:
            pooled[0][key].extend(result[0][key])
            pooled[1][key].extend(result[1][key])
            pooled[2][key][0] += result[2][key][0]
            pooled[2][key][1] += result[2][key][1]
        pooled = pooled[:3] + (pooled[3] + result[3], pooled[4] + result[4])
    print('\n== pooled over %d clusters' % args.clusters)
    report(variants, *pooled)


if __name__ == '__main__':
    main()
