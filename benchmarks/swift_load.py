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

"""The full load and fault runs against a real loopback cluster.

    python -m benchmarks.swift_load [--clients 50] [--requests 20000]
        [--max-seconds 900] [--no-faults]

Uses the cluster, targets and judging of
``tests/functional/swift/test_load_faults.py`` (read its docstring): two
proxies (``recheck_*_existence = 2``, memcache client tuned as
``tune_memcache`` says) on shared backends; client threads
each bound to their own address 127.0.0.10, 127.0.0.11, ...; a public-read
container listing 127.0.0.32/27 and a token-read one listing 127.0.0.16/28.

1. Load: *clients* threads send *requests* GET/HEAD requests in all. When
   40 % are sent, the public rule is changed to 127.0.0.16/28 through proxy
   p1, and the time until p2 (which did not handle the change) answers
   127.0.0.40 (loses access) and 127.0.0.20 (gains it) by the new rule is
   measured; every response is judged against the rules in force, both
   rule sets being accepted until the cache window has passed.
2. Faults, each under a 20-client load: container server, account server,
   both, memcached stopped for recheck + 1.5 s; proxy p2 restarted. Every
   response is judged (no object bytes to a non-listed client, no 5xx but
   the fail-closed 503 during the fault), and the time from restart to
   answers that follow the rules again on both proxies is printed.

Prints the counts per kind of client and status, the violations (there
must be none) and the times. Exits 1 on any violation.
"""

import argparse
import sys
import time

from benchmarks import common
from tests.functional.swift import cluster as swift_cluster
from tests.functional.swift import test_load_faults as lf


def load_run(cluster, targets, args):
    sources = lf.client_sources(args.clients)
    run = lf.LoadRun(cluster, targets, ['p1', 'p2'], sources,
                     args.requests, args.clients, args.max_seconds)
    print('\n== load: %d clients, %d requests, rule change at 40 %%' % (
        args.clients, args.requests))
    run.start()
    deadline = time.monotonic() + args.max_seconds
    while run.issued < args.requests * 0.4 and time.monotonic() < deadline:
        time.sleep(0.05)
    public = targets[0]
    lf.change_public_rule(cluster, public, proxy='p1')
    changed = public.epochs[-1][1]
    follow = {source: lf.follow_time(cluster, public, source, 'p2', changed)
              for source in ('127.0.0.40', '127.0.0.20')}
    run.join()
    print(run.summary())
    time.sleep(max(0, changed + lf.RECHECK + lf.GRACE - time.monotonic()))
    problems = lf.probe_all(cluster, targets, ['p1', 'p2'], sources)
    print('rule change through p1 (%s -> %s), sent at request %d' % (
        lf.PUBLIC_RULE, lf.PUBLIC_RULE_AFTER, int(args.requests * 0.4)))
    for source, seconds in follow.items():
        print('  p2 follows for %s after %s s (recheck_container_existence '
              '= %d s)' % (source, 'never' if seconds is None
                           else '%.2f' % seconds, lf.RECHECK))
    print('strict check of %d addresses x 2 targets x 2 proxies after the '
          'window: %d problems' % (len(sources), len(problems)))
    ok = not run.violations and not problems and None not in follow.values()
    return ok, run


def fault_runs(cluster, targets):
    ok = True
    sources = lf.client_sources(20)
    cluster.token(refresh=True)
    for servers, down in ((['container'], lf.RECHECK + 1.5),
                          (['account'], lf.RECHECK + 1.5),
                          (['account', 'container'], lf.RECHECK + 1.5),
                          (['memcached'], lf.RECHECK + 1.5),
                          (['p2'], 1.0)):
        print('\n== fault: %s stopped for %.1f s under load (20 clients)' % (
            '+'.join(servers), down))
        run, recovered, problems = lf.fault_run(
            cluster, targets, ['p1', 'p2'], sources, servers, down,
            total=20000, concurrency=20, max_seconds=60,
            recovery=80 if 'memcached' in servers else 40)
        print(run.summary())
        print('recovered (both proxies answer by the rules) %.2f s after '
              'the restart; problems left: %d' % (recovered, len(problems)))
        for problem in problems[:5]:
            print('  still: %r' % (problem,))
        if problems:
            for server in servers:
                print('-- log of %s:\n%s' % (server, cluster.log_tail(server)))
            return False
        ok = ok and not run.violations
        cluster.token(refresh=True)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--clients', type=int, default=50)
    parser.add_argument('--requests', type=int, default=20000)
    parser.add_argument('--max-seconds', type=float, default=900)
    parser.add_argument('--no-faults', action='store_true')
    args = parser.parse_args()
    common.print_environment('ip_whitelist under load and faults')
    cluster = swift_cluster.SwiftCluster(lf.PROXIES)
    cluster.setUp()
    try:
        lf.tune_memcache(cluster, ['p1', 'p2'])
        targets = lf.make_targets(cluster)
        ok, _run = load_run(cluster, targets, args)
        if not args.no_faults:
            targets = lf.make_targets(cluster, prefix='faults')
            ok = fault_runs(cluster, targets) and ok
    finally:
        cluster.cleanUp()
    print('\nresult: %s' % ('no violation' if ok else 'VIOLATIONS'))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
