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

* ``whitelist_flatjudge``: ip_whitelist (default settings) whose judge
  first tries a flat check, for an object read by a known client: both
  holders' records read straight from the rule cache, compared with the
  infos in hand, and the client looked up in their networks; it admits
  only when the records say so without anything else to weigh (no
  operator level, both enforcing, no replica set apart, rules on at least
  one level), else the real judge decides. Against ``whitelist``, what a
  shortcut beside the one reading path would buy (``--only
  whitelist,flatjudge``): a measurement of the option, not a design.

The experimental variants of earlier runs are gone with what they
measured: ``at_authorize`` is how the middleware now judges object reads,
``rules_for_1s`` is its ``rules_cache_time`` option (``--only kept``), and
``cache_nocopy`` read info the middleware no longer looks up.
"""


from swift.common.middleware.s3api.utils import MULTIUPLOAD_SUFFIX

from openstack_ext.swift import client
from openstack_ext.swift import ip_whitelist
from openstack_ext.swift import judge
from openstack_ext.swift import replicas
from openstack_ext.swift import rule_cache
from openstack_ext.swift import rules


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


class _FlatJudge(judge.Judge):
    def judge(self, req, target, client):
        if target is not None and target.obj and client is not None and \
                not self.misplaced and \
                not target.container.endswith(MULTIUPLOAD_SUFFIX) and \
                self._admits_at_once(req.environ, target, client):
            return None
        return super(_FlatJudge, self).judge(req, target, client)

    def _admits_at_once(self, env, target, client):
        infocache = env.get('swift.infocache')
        if not infocache or self.reader.operator.defaults:
            return False
        holders = self.reader.cache._holders
        carried = self.reader.replicas is not None
        ruled = False
        for key in ('account/' + target.account, 'container/%s/%s' % (
                target.account, target.container)):
            info, kept = infocache.get(key), holders.get(key)
            if info is None or kept is None or \
                    not 200 <= info['status'] <= 299 or \
                    info.get('sysmeta', {}) != kept.sysmeta or \
                    info.get('meta', {}) != kept.meta:
                return False
            if carried and (info.get(replicas.INFO_FIELD) != [] or
                            kept.values != kept.stored.values):
                return False
            held = kept.rules
            if held.mode != rules.ENFORCE or held.bad or \
                    held.operator is not None:
                return False
            if held.networks is not None:
                if client not in held.networks:
                    return False
                ruled = True
        return ruled


def _with_flat_judge(app, conf):
    middleware = ip_whitelist.IPWhitelistMiddleware(app, conf)
    real = middleware.judge
    middleware.judge = _FlatJudge(real.reader, real.options,
                                  real.forbidden.body, real.logger,
                                  real.debug)
    return middleware


whitelist_flatjudge = _factory(_with_flat_judge)
whitelist1000_flatjudge = whitelist_flatjudge  # its proxy at 1,000 rules
