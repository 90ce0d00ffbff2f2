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

"""A pass-through filter that keeps its next app where nobody looks.

Loaded by test proxies to hide what follows it from ip_whitelist's
start-up placement check.
"""


class HidingFilter(object):

    def __init__(self, app):
        self.hidden = app

    def __call__(self, env, start_response):
        return self.hidden(env, start_response)


def filter_factory(global_conf, **local_conf):
    return HidingFilter
