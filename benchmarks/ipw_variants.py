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

"""Filters in ip_whitelist's place, to find what costs what.

Loaded by the proxies of ``python -m benchmarks.swift_throughput`` through
paste's ``use = call:benchmarks.ipw_variants:NAME``. Not for production:
they exist to measure.

* ``noop``: a filter in ip_whitelist's place that only calls the next app:
  what being one more filter in the pipeline costs (a control, always run).
* ``whitelist_nomemo``: ip_whitelist with ``replica_reads = false`` whose
  rule cache keeps no holder records (every request reads its holders'
  rules from their info again): against ``whitelist_single``, what the
  records save (``--only single,nomemo``).
* ``whitelist_noclients``: the same with the holder records, but without
  the table of client addresses (each request's address parsed again):
  against ``whitelist_single``, what the table saves (``--only
  single,noclients``).

The experimental variants of earlier runs are gone with what they
measured: ``at_authorize`` is how the middleware now judges object reads,
``rules_for_1s`` is its ``rules_cache_time`` option (``--only kept``), and
``cache_nocopy`` read info the middleware no longer looks up.
"""


from openstack_ext.swift import client
from openstack_ext.swift import ip_whitelist
from openstack_ext.swift import rule_cache


class Noop(object):
    def __init__(self, app, conf):
        self.app = app

    def __call__(self, env, start_response):
        return self.app(env, start_response)


def _factory(cls):
    def factory(global_conf, **local_conf):
        conf = dict(global_conf, **local_conf)
        return lambda app: cls(app, conf)
    return factory


noop = _factory(Noop)


class _NoHolderRecords(rule_cache.RuleCache):
    def _keep(self, holder, kept):
        pass


def _without_holder_records(app, conf):
    middleware = ip_whitelist.IPWhitelistMiddleware(
        app, dict(conf, replica_reads='false'))
    middleware.cache = middleware.judge.reader.cache = _NoHolderRecords()
    return middleware


whitelist_nomemo = _factory(_without_holder_records)


class _NoClientTable(client.ClientAddress):
    def __call__(self, env):
        return self._client(env.get('REMOTE_ADDR'),
                            env.get('HTTP_X_FORWARDED_FOR'))


def _without_client_table(app, conf):
    middleware = ip_whitelist.IPWhitelistMiddleware(
        app, dict(conf, replica_reads='false'))
    table = middleware.client_address
    middleware.client_address = _NoClientTable(
        table.options, table.trusted_proxies, table.logger)
    return middleware


whitelist_noclients = _factory(_without_client_table)
