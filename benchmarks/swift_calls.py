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

"""Python calls and bytecodes per request, with and without ip_whitelist.

    python -m benchmarks.swift_calls [--requests 50] [--only ...]

The targets of ``benchmarks.swift_throughput`` (same cluster, rules,
containers and client), but each proxy's pipeline is loaded in this
process (Swift's ``loadapp`` on the proxy's own configuration file) and
driven through WSGI, against the real account, container and object
servers and memcached. Per target and method it prints the Python calls
per request counted by cProfile, and the bytecodes the interpreter
executes (traced), both leaving out eventlet's (its hub loops while a
backend answers, as many as the waits take): what the filter adds then
hardly depends on the load on the machine, unlike timings, and the share
of bytecodes it adds is close to the share of the proxy's CPU it takes.
Also this thread's CPU time per request (the minimum of several runs, the
least disturbed by other load). Each with its difference to the target's
baseline.
"""

import argparse
import cProfile
import pstats
import sys
import time

import eventlet

from benchmarks import common
from benchmarks import swift_throughput as throughput

eventlet.monkey_patch(socket=True, select=True, thread=True, time=True)
from swift.common import swob  # noqa: E402 (after eventlet's patching)
from swift.common import utils  # noqa: E402
from swift.common import wsgi  # noqa: E402


def request(app, method, path, token):
    env = swob.Request.blank(path, environ={'REQUEST_METHOD': method},
                             headers={'X-Auth-Token': token}).environ
    env['REMOTE_ADDR'] = throughput.CLIENT
    status = []
    body = b''.join(app(env, lambda s, h, e=None: status.append(s)))
    if not status or not status[0].startswith('200') or (
            method == 'GET' and body != throughput.BODY):
        raise RuntimeError('%s %s: %r %r' % (method, path, status, body))


def _outside_eventlet(path):
    return '/eventlet/' not in path and '/greenlet/' not in path


def count_bytecodes(app, method, path, token, count):
    """Bytecodes executed per request, eventlet's left out."""
    executed = [0]

    def trace(frame, _event, _arg):
        if not _outside_eventlet(frame.f_code.co_filename):
            return None
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False

        def opcode(_frame, event, _arg):
            if event == 'opcode':
                executed[0] += 1
            return opcode
        return opcode

    sys.settrace(trace)
    try:
        for _ in range(count):
            request(app, method, path, token)
    finally:
        sys.settrace(None)
    return executed[0] / count


def measure(app, method, path, token, count, runs):
    """``(calls, bytecodes, min CPU µs)``, each per request."""
    for _ in range(10):
        request(app, method, path, token)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(count):
        request(app, method, path, token)
    profile.disable()
    calls = sum(
        ncalls for (path, _line, name), (_cc, ncalls, _tt, _ct, _callers)
        in pstats.Stats(profile).stats.items()
        if _outside_eventlet(path)
        and 'poll' not in name and 'switch' not in name) / count
    bytecodes = count_bytecodes(app, method, path, token, count)
    best = None
    for _ in range(runs):
        start = time.thread_time()
        for _ in range(count):
            request(app, method, path, token)
        took = (time.thread_time() - start) / count * 1e6
        best = took if best is None else min(best, took)
    return calls, bytecodes, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=50,
                        help='requests per count and per timing run '
                             '(default 50)')
    parser.add_argument('--runs', type=int, default=5,
                        help='timing runs, the fastest kept (default 5)')
    parser.add_argument('--only', default=','.join(
        throughput.DEFAULT_COMPARISONS),
        help='comparisons, as for benchmarks.swift_throughput')
    args = parser.parse_args()
    targets = throughput.chosen_targets(
        [c.strip() for c in args.only.split(',') if c.strip()])
    proxies = sorted({t.proxy for t in targets.values()} | {'whitelist'})
    common.print_environment('Python calls per request, ip_whitelist vs '
                             'plain pipeline, in-process')
    cluster = throughput.start_cluster(proxies)
    try:
        tokens, shown = throughput.prepare(cluster, targets)
        utils.set_swift_dir(cluster.dir)
        apps = {name: wsgi.loadapp(cluster.conf_path(name))
                for name in proxies}
        print('containers: %s; client %s; %d requests per count, fastest '
              'of %d timing runs' % (', '.join(
                  '%s %s rules' % item for item in sorted(shown.items())),
                  throughput.CLIENT, args.requests, args.runs))
        results = {}
        for name, target in sorted(targets.items()):
            for method in throughput.METHODS:
                results[name, method] = measure(
                    apps[target.proxy], method,
                    throughput.object_path(target.container),
                    tokens[target.container],
                    args.requests, args.runs)
    finally:
        cluster.cleanUp()
    print('%-16s %-11s %-5s %16s %26s %20s' % (
        'target', 'vs', 'method', 'calls (+)', 'bytecodes (+, %)',
        'CPU µs (+)'))
    for name, target in sorted(targets.items(),
                               key=lambda i: (i[1].baseline is None, i[0])):
        for method in throughput.METHODS:
            calls, bytecodes, cpu = results[name, method]
            base = results.get((target.baseline, method),
                               (calls, bytecodes, cpu))
            print('%-16s %-11s %-5s %8.0f (%+5.0f) %8.0f (%+5.0f, %+5.2f%%) '
                  '%10.0f (%+6.0f)' % (
                      name, target.baseline or '-', method, calls,
                      calls - base[0], bytecodes, bytecodes - base[1],
                      (bytecodes - base[1]) / base[1] * 100,
                      cpu, cpu - base[2]))


if __name__ == '__main__':
    main()
