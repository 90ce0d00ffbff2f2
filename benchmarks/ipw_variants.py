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

The experimental variants of earlier runs are gone with what they
measured: ``at_authorize`` is how the middleware now judges object reads,
``rules_for_1s`` is its ``rules_cache_time`` option (``--only kept``), and
``cache_nocopy`` read info the middleware no longer looks up.
"""


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
