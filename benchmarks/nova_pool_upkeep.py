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

"""What keeping hostname pools costs, next to Nova's own host refresh.

    python -m benchmarks.nova_pool_upkeep [--hosts 1000 10000]

A cloud of N compute hosts (a third each in pools doc, ops and dev) in
Nova's own fixtures: API and cell databases (sqlite), the real placement
service in process, N compute nodes, services, host mappings and resource
providers. Measured, with the number of placement calls:

* ``nova refresh``: ``HostManager.get_host_states_by_uuids`` for every
  host (``None``: no UUID list),
  what a scheduler worker pays to look at the whole cloud once (all
  ``compute_nodes`` and ``services`` rows): the baseline, per worker;
* ``first sync``: ``openstack-ext sync-pools`` on a cloud whose pools are
  empty (the aggregates created, every host added, in the API database and
  in placement);
* ``steady sync``: the same when nothing changed: the timer's cost;
* ``first catch-up`` and ``catch-up``: what a failing pooled request in a
  scheduler process pays, the first time (every host mapping read) and
  then (nothing new since);
* ``pool hook``: the placement hook per request, pools read from the
  scheduler's host manager in memory.

Per minute, with W scheduler workers: the plugin's schedulers do nothing
periodically (no refresh; a catch-up only for a request that would fail),
so the cost is one steady sync per timer run whatever W is; the table sets
it next to W Nova refreshes.
"""

import argparse
import statistics
import time
import uuid

from benchmarks import common

PROJECT = 'p-bench'
SECRET = 'b' * 40
POOLS = ('doc', 'ops', 'dev')
WORKERS = (1, 4, 16)


def timed(function, repeat=1):
    """Median seconds of *function* and its result."""
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


class Cloud(object):
    """Nova's functional fixtures, outside a test run."""

    def __init__(self):
        from nova import test as nova_test
        from nova.tests.functional import fixtures as func_fixtures

        class Fixtures(nova_test.TestCase):
            def runTest(self):
                pass
        self.case = Fixtures()
        self.case.setUp()
        self.case.useFixture(func_fixtures.PlacementFixture())
        import nova.conf
        from openstack_ext.nova import conf as pool_conf
        pool_conf.register_opts(nova.conf.CONF)
        self.case.flags(group='ip_pools', client_networks=[
            '10.1.0.0/16=doc', '10.2.0.0/16=ops'], default_pool='dev',
            stamp_secret=[SECRET])
        from nova import context
        self.ctxt = context.get_admin_context()
        self.cell = self.case.cell_mappings['cell1']

    def close(self):
        self.case.doCleanups()

    def add_hosts(self, count):
        from nova import context
        from nova import objects
        from nova.scheduler.client import report
        client = report.report_client_singleton()
        with context.target_cell(self.ctxt, self.cell) as cctxt:
            for i in range(count):
                host = '%s-%05d' % (POOLS[i % 3], i)
                node_uuid = str(uuid.uuid4())
                objects.Service(cctxt, host=host, binary='nova-compute',
                                topic='compute', report_count=0).create()
                objects.ComputeNode(
                    cctxt, host=host, hypervisor_hostname=host,
                    uuid=node_uuid, vcpus=64, memory_mb=65536, local_gb=1024,
                    vcpus_used=0, memory_mb_used=0, local_gb_used=0,
                    hypervisor_type='fake', hypervisor_version=1,
                    cpu_info='{}', free_ram_mb=65536, free_disk_gb=1024,
                    current_workload=0, running_vms=0, disk_available_least=0,
                    host_ip='192.0.2.1', supported_hv_specs=[],
                    pci_device_pools=None, cpu_allocation_ratio=4.0,
                    ram_allocation_ratio=1.0,
                    disk_allocation_ratio=1.0).create()
                objects.HostMapping(self.ctxt, host=host,
                                    cell_mapping=self.cell).create()
                response = client.post('/resource_providers', {
                    'uuid': node_uuid, 'name': host}, version='1.20',
                    global_request_id=self.ctxt.global_id)
                assert response.status_code == 200, response.text


class PlacementCalls(object):
    """Counts the report client's calls to placement."""

    def __init__(self):
        from nova.scheduler.client import report
        self.count = 0
        self.patched = []
        for name in ('get', 'put', 'post', 'delete'):
            original = getattr(report.SchedulerReportClient, name)
            self.patched.append((name, original))
            setattr(report.SchedulerReportClient, name,
                    self._counting(original))

    def _counting(self, original):
        def call(client, *args, **kwargs):
            self.count += 1
            return original(client, *args, **kwargs)
        return call

    def since(self, before):
        return self.count - before


class NoFanout(object):
    """The schedulers' fanout cast, counted (not what is measured)."""

    casts = 0

    def update_aggregates(self, ctxt, aggregates):
        NoFanout.casts += 1


def measure(count):
    import nova.conf
    from nova import objects
    from nova.scheduler import host_manager
    from openstack_ext.nova import nova_access
    from openstack_ext.nova import placement_hook
    from openstack_ext.nova import pool_aggregates
    from openstack_ext.nova import pool_decision
    from openstack_ext.nova import pool_sync
    from openstack_ext.nova import pools

    cloud = Cloud()
    calls = PlacementCalls()
    found = {}
    try:
        start = time.perf_counter()
        cloud.add_hosts(count)
        found['setup'] = time.perf_counter() - start
        settings = pools.load_settings(nova.conf.CONF)
        ctxt = cloud.ctxt

        def sync():
            return pool_sync.PoolSync(settings,
                                      query_client=NoFanout()).sync(ctxt)
        before = calls.count
        found['first sync'] = (timed(sync)[0], calls.since(before))
        before = calls.count
        seconds, counts = timed(sync, repeat=3)
        assert counts['added'] == 0 and counts['removed'] == 0, counts
        found['steady sync'] = (seconds, calls.since(before) / 3)

        manager = host_manager.HostManager()
        before = calls.count
        found['nova refresh'] = (timed(lambda: list(
            manager.get_host_states_by_uuids(ctxt, None, None)),
            repeat=3)[0],
            calls.since(before) / 3)

        catching = pool_sync.PoolSync(settings, query_client=NoFanout())
        before = calls.count
        found['first catch-up'] = (timed(lambda: catching.catch_up(
            ctxt, manager))[0], calls.since(before))
        before = calls.count
        found['catch-up'] = (timed(lambda: catching.catch_up(ctxt, manager),
                                   repeat=5)[0], calls.since(before) / 5)

        decider = pool_decision.PoolDecider(settings)
        hook = placement_hook.PoolRequestFilter(
            decider, pool_aggregates.PoolAggregates(
                settings.aggregate_metadata_key, catching.belongs),
            pool_aggregates.LeftHosts(), catching)

        def hook_once():
            spec = objects.RequestSpec(
                project_id=PROJECT, instance_uuid=str(uuid.uuid4()),
                scheduler_hints={pools.HINT: [pools.sign_stamp(
                    SECRET, 'doc', PROJECT)]}, ignore_hosts=None)
            nova_access.note_host_manager(spec, manager)
            return hook.require_ip_pool(ctxt, spec)
        found['pool hook'] = (timed(hook_once, repeat=50)[0], 0)
    finally:
        cloud.close()
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', type=int, nargs='+', default=[1000])
    args = parser.parse_args()
    common.print_environment('Keeping hostname pools vs Nova\'s refresh',
                             packages=('nova', 'openstack-placement'))
    import logging
    logging.disable(logging.WARNING)
    for count in args.hosts:
        found = measure(count)
        refresh = found['nova refresh'][0]
        print()
        print('%d hosts (set up in %.0f s): ms (median), placement calls, '
              'ratio to one nova refresh' % (count, found['setup']))
        for name in ('nova refresh', 'first sync', 'steady sync',
                     'first catch-up', 'catch-up', 'pool hook'):
            seconds, placement = found[name]
            print('  %-15s %12.3f ms %8.0f calls %9.4f x' % (
                name, seconds * 1e3, placement, seconds / refresh))
        print('  per minute (sync-pools timer every minute) vs W nova '
              'refreshes:')
        for workers in WORKERS:
            print('    W=%-3d plugin %.3f s/min (schedulers: 0), nova '
                  '%.3f s/min, ratio %.3f' % (
                      workers, found['steady sync'][0], refresh * workers,
                      found['steady sync'][0] / (refresh * workers)))


if __name__ == '__main__':
    main()
