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

"""A filter that answers object reads itself, never asking auth.

Loaded right of ip_whitelist by test proxies: an object GET or HEAD with
``X-Answer-Here`` is served from a pre-authorised subrequest (as a cache
or a middleware with its own authority would), marked ``X-Answered-By``.
The proxy's ``swift.authorize`` is never called for it.
"""

from swift.common import swob
from swift.common import wsgi


class AnsweringFilter(object):

    def __init__(self, app):
        self.app = app

    def __call__(self, env, start_response):
        req = swob.Request(env)
        if 'X-Answer-Here' not in req.headers or \
                req.method not in ('GET', 'HEAD'):
            return self.app(env, start_response)
        sub = wsgi.make_pre_authed_request(env, 'GET', req.path_info,
                                           swift_source='ANSWER')
        got = sub.get_response(self.app)
        resp = swob.Response(status=got.status, body=got.body,
                             headers={'X-Answered-By': 'answering'})
        return resp(env, start_response)


def filter_factory(global_conf, **local_conf):
    return AnsweringFilter
