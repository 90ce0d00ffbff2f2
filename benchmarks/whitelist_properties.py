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

"""The ip_whitelist property test at scale: count and mismatches.

    python -m benchmarks.whitelist_properties [--examples 100000]
        [--max-seconds 1800]

Runs the property of ``tests/unit/test_whitelist_properties.py`` (the real
middleware against the reference model, see that module) for the given
number of generated examples, without stopping at the first mismatch, and
prints how many examples ran, how many disagreed with the model or raised,
the first few of those, and how the examples were spread (answers, rule
matches, forwarded chains, address spellings) so that a thin spread is
visible. Exits 1 on any mismatch.
"""

import argparse
import collections
import sys
import time

import hypothesis

from benchmarks import common
from tests.unit import test_whitelist_properties as props


def classify(ex, stats):
    stats['answer %s' % props.model_request(ex)] += 1
    client = props.model_client(ex.peer, ex.forwarded_for, ex.trusted,
                                ex.always_allow)
    if client is None:
        stats['client unparseable (denied where rules apply)'] += 1
    if ex.forwarded_for is not None:
        stats['X-Forwarded-For present'] += 1
        peer = props.model_address(ex.peer)
        if peer is not None and any(peer in n for n in ex.trusted):
            stats['X-Forwarded-For walked (trusted peer)'] += 1
    if '::ffff:' in ex.peer.lower():
        stats['peer IPv4-mapped'] += 1
    if '%' in ex.peer:
        stats['peer %scope'] += 1
    rules = [r for r in ex.account_rules + ex.containers[props.CONTAINER][1]
             if r.text]
    if rules and client is not None and any(
            client in n for r in rules for n in r.networks):
        stats['client matched by a rule'] += 1
    if any(not r.networks for r in rules):
        stats['rule listing no valid network'] += 1


def run(examples, deadline):
    stats = collections.Counter()
    failures = []

    @props.property_settings(examples)
    @hypothesis.given(props.examples())
    def check(ex):
        if time.monotonic() > deadline:
            return
        stats['examples'] += 1
        classify(ex, stats)
        try:
            problems = props.run_example(ex)
        except Exception as error:  # noqa: the count is the point
            problems = ['raised %r' % error]
        if problems:
            stats['mismatches'] += 1
            for problem in problems:
                stats['mismatch kind: %s' % problem.split('(')[0][:60]] += 1
            if len(failures) < 5:
                failures.append(props.describe(ex, problems))
    # No shrinking: every mismatch is counted and the first ones shown.
    check._hypothesis_internal_use_settings = hypothesis.settings(
        check._hypothesis_internal_use_settings,
        phases=(hypothesis.Phase.generate,))
    check()
    return stats, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--examples', type=int, default=100000)
    parser.add_argument('--max-seconds', type=float, default=1800)
    args = parser.parse_args()
    common.print_environment('ip_whitelist property test vs reference model',
                             packages=('swift', 'hypothesis'))
    start = time.monotonic()
    stats, failures = run(args.examples, start + args.max_seconds)
    elapsed = time.monotonic() - start
    print('examples run: %d in %.0f s (requested %d)' % (
        stats['examples'], elapsed, args.examples))
    print('mismatches or exceptions: %d' % stats['mismatches'])
    for key in sorted(stats):
        if key not in ('examples', 'mismatches'):
            print('  %-52s %7d' % (key, stats[key]))
    for text in failures:
        print('--- mismatch\n' + text)
    sys.exit(1 if stats['mismatches'] else 0)


if __name__ == '__main__':
    main()
