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

"""Scheduling cost per boot with IP pools in the placement query, and without.

    python -m benchmarks.nova_scheduling [--repeat 7]

What nova-scheduler does per boot that grows with placement's answer, at
1,000 and 10,000 hosts (``[scheduler] max_placement_results`` = 1000):

1. the request filters: with pools, :meth:`require_ip_pool
   <openstack_ext.nova.placement_hook.PoolRequestFilter.require_ip_pool>`,
   the pools' host aggregates read from the scheduler's host manager in
   memory (as nova-scheduler does; nothing is refreshed or written);
2. decoding placement's allocation candidates (real-shaped JSON, one
   candidate per host placement returns) and indexing them by provider, as
   ``SchedulerManager.select_destinations`` does;
3. Nova's default filters and all of Nova's weighers (Nova's own handlers)
   over the host states of those candidates (Nova's ``FakeHostState``), with
   ``ClientNetworkPoolFilter`` appended when pools are deployed.

Not measured: placement's own SQL, which with ``member_of`` works on the
pool's providers only, and the database reads that build host states,
which grow with the candidates too; so the ratios below understate the
saving, if anything.

Scenarios, taking turns in every repetition; each is reported as the median
of its per-turn ratios to ``nova`` of the same turn:

* ``nova``: no pools; placement returns its cut of 1000 (all hosts at
  1,000); Nova's filters only. The baseline.
* ``nova (control)``: the same again, to show the noise between two runs
  of one thing.
* ``pool doc``: a boot pinned to pool doc (a third of the hosts); placement
  returns doc's hosts only, at most 1000.
* ``pool small``: a boot pinned to a 20-host pool.
* ``host filter only``: the filter without the placement constraint (how
  it was before): the cut of 1000 over all hosts, which may hold no host of
  the pool at all; for its cost only.
"""

import argparse
import datetime
import json
import statistics
import time
import uuid

from benchmarks import common

PROJECT = 'p-bench'
SECRET = 'b' * 40
SMALL = 20
MAX_PLACEMENT_RESULTS = 1000
DEFAULT_FILTERS = ('ComputeFilter', 'ComputeCapabilitiesFilter',
                   'ImagePropertiesFilter', 'ServerGroupAntiAffinityFilter',
                   'ServerGroupAffinityFilter')


def configure():
    import nova.conf
    from openstack_ext.nova import conf as pool_conf
    conf = nova.conf.CONF
    pool_conf.register_opts(conf)
    # The fake hosts' services were last heard from when they were made:
    # keep them up for the whole run.
    conf.set_override('service_down_time', 10 ** 7)
    for name, value in (
            ('client_networks', ['10.1.0.0/16=doc', '10.2.0.0/16=ops',
                                 '10.4.0.0/16=small']),
            ('default_pool', 'dev'), ('stamp_secret', [SECRET])):
        conf.set_override(name, value, group=pool_conf.GROUP)


def pool_of_index(i, count):
    if i < SMALL:
        return 'small'
    return ('doc', 'ops', 'dev')[i % 3]


def make_hosts(count):
    from nova.tests.unit.scheduler import fakes
    now = datetime.datetime.utcnow()
    hosts = []
    for i in range(count):
        name = '%s-%05d' % (pool_of_index(i, count), i)
        service = {'disabled': False, 'forced_down': False,
                   'last_seen_up': now, 'created_at': now,
                   'updated_at': now, 'host': name,
                   'binary': 'nova-compute'}
        hosts.append(fakes.FakeHostState(name, name, {
            'uuid': str(uuid.UUID(int=i + 1)), 'service': service,
            'free_ram_mb': 65536, 'free_disk_mb': 1 << 20,
            'vcpus_total': 64, 'vcpus_used': 0, 'total_usable_ram_mb': 65536,
            'total_usable_disk_gb': 1024, 'disk_mb_used': 0,
            'num_io_ops': 0, 'num_instances': 0, 'aggregates': [],
            'cpu_allocation_ratio': 4.0, 'ram_allocation_ratio': 1.0,
            'disk_allocation_ratio': 1.0}))
    return hosts


def placement_answer(hosts):
    """The allocation candidates body placement sends for *hosts*."""
    return json.dumps({
        'allocation_requests': [
            {'allocations': {h.uuid: {'resources': {
                'VCPU': 1, 'MEMORY_MB': 512, 'DISK_GB': 1}}}}
            for h in hosts],
        'provider_summaries': {
            h.uuid: {'resources': {
                'VCPU': {'capacity': 64, 'used': 0},
                'MEMORY_MB': {'capacity': 65536, 'used': 0},
                'DISK_GB': {'capacity': 1024, 'used': 0}},
                'traits': ['COMPUTE_NODE'], 'parent_provider_uuid': None,
                'root_provider_uuid': h.uuid}
            for h in hosts}})


def host_manager_of(hosts):
    """What the scheduler's host manager keeps: an aggregate per pool."""
    import types
    by_pool = {}
    for host in hosts:
        by_pool.setdefault(host.host.split('-')[0], []).append(host.host)
    return types.SimpleNamespace(aggs_by_id={
        index: types.SimpleNamespace(
            id=index, uuid=str(uuid.uuid4()), name='ip-pool-' + pool,
            metadata={'ip_pool': pool}, hosts=members)
        for index, (pool, members) in enumerate(sorted(by_pool.items()))})


def make_spec(pool, manager):
    from nova import context
    from nova import objects
    from openstack_ext.nova import nova_access
    from openstack_ext.nova import pools
    hints = {pools.HINT: [pools.sign_stamp(SECRET, pool, PROJECT)]}
    spec = objects.RequestSpec(
        project_id=PROJECT, instance_uuid=str(uuid.uuid4()),
        scheduler_hints=hints, ignore_hosts=None, force_hosts=None,
        force_nodes=None, requested_destination=None, num_instances=1,
        instance_group=None, availability_zone=None,
        flavor=objects.Flavor(memory_mb=512, vcpus=1, root_gb=1,
                              ephemeral_gb=0, swap=0, extra_specs={}),
        image=objects.ImageMeta.from_dict({'properties': {}}))
    spec._context = context.RequestContext(
        user_id='u', project_id=PROJECT, remote_address='10.1.2.3')
    nova_access.note_host_manager(spec, manager)
    return spec


def scheduler_parts():
    from nova.scheduler import filters
    from nova.scheduler import weights
    from openstack_ext.nova import placement_hook
    from openstack_ext.nova import pool_filter

    handler = filters.HostFilterHandler()
    nova_filters = [cls() for cls in handler.get_matching_classes(
        ['nova.scheduler.filters.all_filters'])
        if cls.__name__ in DEFAULT_FILTERS]
    ours = pool_filter.ClientNetworkPoolFilter()
    weigh = weights.HostWeightHandler()
    weighers = [cls() for cls in weigh.get_matching_classes(
        ['nova.scheduler.weights.all_weighers'])]
    return handler, nova_filters, ours, weigh, weighers, placement_hook


def one_boot(parts, answer, hosts_by_uuid, spec, with_pool, hook):
    handler, nova_filters, ours, weigh, weighers, placement_hook = parts
    if hook:
        placement_hook.installed().require_ip_pool(spec._context, spec)
    body = json.loads(answer)
    by_rp = {}
    for request in body['allocation_requests']:
        for rp_uuid in request['allocations']:
            by_rp.setdefault(rp_uuid, []).append(request)
    states = [hosts_by_uuid[rp] for rp in body['provider_summaries']]
    chain = nova_filters + ([ours] if with_pool else [])
    passed = list(handler.get_filtered_objects(chain, states, spec, 0))
    weighed = weigh.get_weighed_objects(weighers, passed, spec)
    return len(states), len(weighed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=15)
    args = parser.parse_args()
    common.print_environment('Nova scheduling cost per boot, pools vs none',
                             packages=('nova', 'openstack-placement'))
    import nova.conf
    from nova import objects
    objects.register_all()
    nova.conf.CONF([], project='nova', default_config_files=[])
    configure()
    parts = scheduler_parts()
    results = {}
    for count, calls in ((1000, 3), (10000, 3)):
        hosts = make_hosts(count)
        by_uuid = {h.uuid: h for h in hosts}
        manager = host_manager_of(hosts)
        cut = hosts[:MAX_PLACEMENT_RESULTS]
        doc = [h for h in hosts if h.host.startswith('doc-')]
        small = [h for h in hosts if h.host.startswith('small-')]
        scenarios = [
            ('nova', placement_answer(cut), 'doc', False, False),
            ('nova (control)', placement_answer(cut), 'doc', False, False),
            ('pool doc', placement_answer(doc[:MAX_PLACEMENT_RESULTS]),
             'doc', True, True),
            ('pool small', placement_answer(small), 'small', True, True),
            ('host filter only', placement_answer(cut), 'doc', True, False),
        ]
        samples = {name: [] for name, *_ in scenarios}
        shape = {}
        for _ in range(args.repeat):
            for name, answer, pool, with_pool, hook in scenarios:
                specs = [make_spec(pool, manager) for _ in range(calls)]
                start = time.perf_counter()
                for spec in specs:
                    shape[name] = one_boot(parts, answer, by_uuid, spec,
                                           with_pool, hook)
                samples[name].append((time.perf_counter() - start) / calls)
        # Each turn's ratio to the baseline of the same turn: background
        # load hits both alike.
        ratios = {name: common.median_ci([
            value / base for value, base in zip(values, samples['nova'])])
            for name, values in samples.items()}
        results[count] = ratios
        print()
        print('%d hosts (%d boots x %d turns; ms per boot, median; ratio to '
              'nova in the same turn, median [~95 %% interval])' % (
                  count, calls, args.repeat))
        print('  %-18s %9s %22s %8s %7s' % (
            'scenario', 'ms/boot', 'vs nova', 'offered', 'passed'))
        for name, *_ in scenarios:
            ratio, low, high = ratios[name]
            print('  %-18s %9.2f %8.3f [%5.3f, %5.3f] %8d %7d' % (
                name, statistics.median(samples[name]) * 1e3, ratio, low,
                high, *shape[name]))
    print()
    for count, found in results.items():
        print('at %5d hosts: pooled boot (pool doc) / unpooled = %.2f, '
              '20-host pool / unpooled = %.2f, control = %.2f' % (
                  count, found['pool doc'][0], found['pool small'][0],
                  found['nova (control)'][0]))


if __name__ == '__main__':
    main()
