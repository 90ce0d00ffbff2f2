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

"""Experimental variants of ip_whitelist, to find what costs what.

Loaded by the proxies of ``python -m benchmarks.swift_throughput`` through
paste's ``use = call:benchmarks.ipw_variants:NAME``. Not for production:
they exist to measure.

* ``noop``: a filter in ip_whitelist's place that only calls the next app:
  what being one more filter in the pipeline costs (a control, always run).
* ``cache_nocopy`` (``--profile``): reads account and container info with
  Swift's private ``_get_info_from_caches`` (request cache, then memcache)
  instead of the public ``get_*_info``, which deep-copy the info dict: what
  that copy costs. Private, and its return value changed in Swift 2.3x,
  hence not in the middleware.
* ``rules_for_1s`` (``--profile``): keeps each container's compiled rules in
  the proxy process for one second, reading no info at all in between:
  what a process-local cache would save (changes made through other proxies
  or workers would then apply up to a second later).
"""

import time

from swift.proxy.controllers import base as proxy_base

from openstack_ext.swift import ip_whitelist


class CacheNoCopy(ip_whitelist.IPWhitelistMiddleware):
    def _info(self, env, account=False, names=None):
        acc, cont = names or self._names(env)
        info, _state = proxy_base._get_info_from_caches(
            self.app._pipeline_final_app, env, acc, None if account else cont)
        return info or super(CacheNoCopy, self)._info(env, account, names)


class RulesForOneSecond(ip_whitelist.IPWhitelistMiddleware):
    def __init__(self, app, conf):
        super(RulesForOneSecond, self).__init__(app, conf)
        self._kept = {}

    def rules(self, env, for_object=False):
        key = self._names(env)
        kept = self._kept.get(key)
        now = time.monotonic()
        if kept is None or kept[0] < now:
            kept = self._kept[key] = (
                now + 1, super(RulesForOneSecond, self).rules(env, for_object))
        return kept[1]


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


cache_nocopy = _factory(CacheNoCopy)
rules_for_1s = _factory(RulesForOneSecond)
noop = _factory(Noop)
