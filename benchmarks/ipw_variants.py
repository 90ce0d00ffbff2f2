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

Loaded by the proxies of ``python -m benchmarks.swift_throughput
--profile`` through paste's ``use = call:benchmarks.ipw_variants:NAME``.
Not for production: they exist to measure.

* ``judged_once``: the wrapped ``swift.authorize`` does not judge again the
  request that ``__call__`` already judged (same environment, same account
  and container); subrequests, which get a new environment, still are.
* ``judged_once_nocopy``: also reads the rules from the request's
  ``swift.infocache`` when Swift already put the info there, instead of
  ``get_*_info``, which deep-copies the info dict on every call.
* ``no_account``: skips the account info (and the account's rules): only
  to measure what reading the account info costs.
* ``noop``: a filter in ip_whitelist's place that only calls the next app:
  what being one more filter in the pipeline costs.
"""

from swift.common import swob
from swift.proxy.controllers import base as proxy_base

from openstack_ext.swift import ip_whitelist

JUDGED = 'openstack_ext.ip_whitelist.judged'


def _names(env):
    try:
        _v, account, container, _o = swob.split_path(
            env.get('PATH_INFO', ''), 1, 4, True)
    except ValueError:
        return None
    return account, container


class OnceAuthorize(ip_whitelist.IPCheckingAuthorize):
    def __call__(self, req):
        judged = req.environ.get(JUDGED)
        if judged is not None and judged == _names(req.environ):
            denial = None
            if self.authorize is not None:
                denial = self.authorize(req)
            if denial is None and self.whitelist.changes_rules(req) \
                    and not req.environ.get('swift_owner'):
                denial = swob.HTTPForbidden(request=req)
            return denial
        return super(OnceAuthorize, self).__call__(req)


class JudgedOnce(ip_whitelist.IPWhitelistMiddleware):
    def __call__(self, env, start_response):
        req = swob.Request(env)
        client = self.client_address(env)
        denial = self.check(req, client) or self.translate_rule_writes(req)
        if denial is not None:
            return denial(env, start_response)
        env[JUDGED] = _names(env)
        authorize = env.get('swift.authorize')
        if not (isinstance(authorize, ip_whitelist.IPCheckingAuthorize)
                and authorize.whitelist is self):
            env['swift.authorize'] = OnceAuthorize(self, client, authorize)
        if req.method in ('GET', 'HEAD'):
            start_response = self.show_rules_to_owner(env, start_response)
        return self.app(env, start_response)


def _cached(env, account, container=None):
    cache = env.get('swift.infocache')
    if cache:
        return cache.get(proxy_base.get_cache_key(account, container))
    return None


class NoCopy(JudgedOnce):
    def rules(self, env, for_object=False):
        names = _names(env)
        account = _cached(env, names[0]) or proxy_base.get_account_info(
            env, self.app, swift_source=ip_whitelist.SWIFT_SOURCE)
        if account['status'] in ip_whitelist.GONE:
            return None
        if not 200 <= account['status'] < 300:
            raise ip_whitelist.RulesUnavailable('account')
        container = _cached(env, *names) or proxy_base.get_container_info(
            env, self.app, swift_source=ip_whitelist.SWIFT_SOURCE)
        values = ip_whitelist._rule_values(account)
        if 200 <= container['status'] < 300:
            values += ip_whitelist._rule_values(container)
        elif container['status'] not in ip_whitelist.GONE:
            raise ip_whitelist.RulesUnavailable('container')
        if not values:
            return None
        return ip_whitelist.compile_rules(tuple(sorted(values)))[0]


class NoAccount(ip_whitelist.IPWhitelistMiddleware):
    def rules(self, env, for_object=False):
        container = proxy_base.get_container_info(
            env, self.app, swift_source=ip_whitelist.SWIFT_SOURCE)
        values = ip_whitelist._rule_values(container)
        if not values:
            return None
        return ip_whitelist.compile_rules(tuple(sorted(values)))[0]


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


judged_once = _factory(JudgedOnce)
judged_once_nocopy = _factory(NoCopy)
no_account = _factory(NoAccount)
noop = _factory(Noop)
