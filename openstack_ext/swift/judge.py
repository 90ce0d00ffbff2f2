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

"""Judging requests and subrequests: what ip_whitelist answers, and when.

:meth:`Judge.judge` is the one place a request is judged: the path's
rules, read level by level by
:class:`~openstack_ext.swift.rule_reader.RuleReader`, go to
:func:`~openstack_ext.swift.decision.decide`; what refuses is logged,
counted and answered with a :class:`Refusal`. :class:`Judgment` is the
``swift.authorize`` of one client request: it judges the subrequests
made for it, and the request itself when it was left to the proxy's
question.
"""

import collections
import urllib.parse

from swift.common import constraints
from swift.common import swob
from swift.common import utils

from openstack_ext.swift import decision
from openstack_ext.swift import rule_headers
from openstack_ext.swift import rule_reader
from openstack_ext.swift import trail


class Refusal(collections.namedtuple('Refusal', 'status body')):
    """An answer of the filter's own, built afresh each time it is given.

    Never the same object twice: what the app, or the proxy's CORS
    handling, adds to a refusal handed to it is not what the client gets.
    """

    __slots__ = ()

    def response(self, req):
        return swob.Response(request=req, status=self.status,
                             content_type='text/plain', body=self.body)


UNAVAILABLE = Refusal(503, 'IP whitelist rules are unavailable')
MISPLACED = Refusal(503, 'ip_whitelist is misplaced in the proxy pipeline')
NOT_FOUND = Refusal(404, '')
INVALID_PATH = Refusal(412, 'Invalid UTF8 or contains NULL')


def valid_path(req):
    """Whether the backends would take *req*'s path (Swift's own test).

    Checked before the rules: the info look-up reports a refused path as
    ``503``, which would read as rules being unavailable.
    """
    path = req.environ['PATH_INFO']
    if path.isascii() and '\x00' not in path:
        return True  # valid UTF-8, no reserved byte: the usual case
    try:
        return bool(constraints.check_utf8(swob.wsgi_to_str(path),
                                           internal=req.allow_reserved_names))
    except UnicodeError:
        return False


def without_async_delete(req):
    """Make an SLO manifest's asynchronous delete SLO's synchronous one.

    With ``?multipart-manifest=delete&async=yes``, SLO checks the right to
    delete the segments by asking ``swift.authorize`` about the client's
    own request once more (only its ACL swapped for the segment
    container's), which cannot tell the filter which container it means;
    it then queues the segments for the expirer with pre-authorised
    requests. Without ``async``, SLO deletes each segment with a
    subrequest, judged by its own container's rules. Any ``async`` of an
    object ``DELETE`` goes, so that no spelling of it reaches SLO.
    """
    if req.environ.get('REQUEST_METHOD') == 'DELETE' and \
            'async' in req.params:
        req.params = [(key, value) for key, value in urllib.parse.parse_qsl(
            req.query_string, keep_blank_values=True, encoding='latin-1')
            if key != 'async']


def judged_at_question(req, target, judge):
    """Whether *req* is an object read judged at the proxy's question.

    To choose the storage policy, the proxy reads the container's info
    (and so the account's) into the request's info cache before it first
    asks ``swift.authorize``: judged then, the rules are read from there,
    not looked up once more ahead of the proxy. A read changes nothing,
    so one answered without that question is judged before its answer
    leaves. Everything else (writes, requests on accounts and containers,
    paths that are not plain ASCII) is judged ahead of the app: the
    middleware to its right act on them before the proxy asks.
    """
    env = req.environ
    path = env.get('PATH_INFO', '')
    return (target is not None and target.obj is not None and
            env.get('REQUEST_METHOD') in ('GET', 'HEAD') and
            not judge.misplaced and path.isascii() and '\x00' not in path)


class Judge(object):
    """Judges requests by the rules of their path."""

    def __init__(self, reader, options, deny_message, logger, debug=False):
        self.reader = reader
        self.options = options
        self.forbidden = Refusal(403, deny_message)
        self.logger = logger
        self.debug = debug
        self.misplaced = None  # set by the pipeline check: refuse all

    def judge(self, req, target, client):
        """The :class:`Refusal` of *req* from *client*, or ``None``.

        :param target: *req*'s :data:`rule_reader.Target`, ``None`` for a
            path that names no account (``/info``, auth), which passes.
        """
        if target is None:
            return None
        if not valid_path(req):
            return INVALID_PATH
        if self.misplaced:
            return MISPLACED
        try:
            verdict = decision.decide(
                client, self.reader.levels(req, target, bool(target.obj)),
                self.options, container=bool(target.container))
        except rule_reader.NoRulesHolder as gone:
            self.logger.info('ip_whitelist: no %s for %s: refusing the '
                             'object request', gone, req.path)
            return NOT_FOUND
        except rule_reader.RulesUnavailable as error:
            self.logger.error('ip_whitelist: cannot read rules for '
                              'Account=%s Container=%s (%s): refusing',
                              target.account, target.container, error)
            self.logger.increment('unavailable')
            return UNAVAILABLE
        refused_by = verdict.refused_by
        if self.debug:
            self.logger.debug('ip_whitelist: %s %s from %s: %s', req.method,
                              req.path, client, 'refused by the %s rules'
                              % refused_by if refused_by else 'admitted')
        for level in verdict.audited:
            # Audit: what enforcing would refuse, once per request.
            self.logger.warning(
                'ip_whitelist: audit: IP %s would be denied access to '
                'Account=%s Container=%s (%s rules, in audit): %s %s',
                client, target.account, target.container, level,
                req.method, req.path)
            self.logger.increment('audited')
        if refused_by is None:
            return None
        self.logger.info('ip_whitelist: IP %s denied access to Account=%s '
                         'Container=%s (%s rules)', client, target.account,
                         target.container, refused_by)
        self.logger.increment('denied')
        return self.forbidden


class Judgment(object):
    """``swift.authorize`` for one client request, and what it decided.

    Subrequests inherit ``swift.authorize``, and with it the original
    client's address, which their own environment no longer has: each is
    judged here. The client's own request is judged once, ahead of the app
    or (``pending``, an object read) at the proxy's first question. Then
    auth's ``swift.authorize`` is asked, then the owner's rights.
    """

    __slots__ = ('judge', 'owner', 'client', 'env', 'path', 'method',
                 'target', 'authorize', 'pending', 'refused',
                 'subrequest_refused', 'changes', 'denial_status', 'status')

    def __init__(self, judge, owner, client, env, target, authorize):
        self.judge = judge
        self.owner = owner  # an owner.OwnerGate
        self.client = client
        self.env = env
        self.path = env.get('PATH_INFO')
        self.method = env.get('REQUEST_METHOD')
        self.target = target
        self.authorize = authorize  # auth's
        self.pending = False
        self.refused = None  # the client's own request's Refusal
        self.subrequest_refused = None  # the last subrequest's Refusal
        self.changes = []  # trail.Change of the client's own request
        self.denial_status = None  # of the refusal it got when last asked
        self.status = None  # the status its answer started with

    def __call__(self, req):
        env = req.environ
        if env is self.env and env.get('PATH_INFO') == self.path:
            target = self.target
            refusal = self.settle(req)
        else:
            target = rule_reader.target(req.path_info)
            refusal = self.judge.judge(req, target, self.client)
            if refusal is not None:
                self.subrequest_refused = refusal
        if refusal is not None:
            return refusal.response(req)
        denial = self.authorize(req) if self.authorize is not None else None
        if denial is not None and env is self.env:
            self.owner.refused(req, target, self.client,
                               'refused by auth (%s)' % denial.status)
        if denial is None:
            denial, change = self.owner.denial(req, target, self.client)
            if change is not None and env is self.env:
                self.changes.append(change)  # logged when the answer starts
        if env is self.env:  # a later question may admit what one refused
            self.denial_status = None if denial is None else \
                getattr(denial, 'status_int', 0)
        return denial

    def wrote_nothing(self):
        """Whether the client's own request surely reached no backend.

        ``swift.authorize`` (auth's, or the owner's gate) refused it when
        last asked, and its answer is that refusal's ``401`` or ``403``:
        Swift's proxy asks before it sends anything to a backend, and
        answers the refusal unless it asks again and is admitted (its
        delayed denial). Any other answer, and one that never started
        (the app raised), may follow a write.
        """
        return self.denial_status in (401, 403) and \
            self.status is not None and \
            self.status[:3] == str(self.denial_status)

    def settle(self, req=None):
        """Judge the client's own request if it is still pending.

        :param req: the request as the proxy asks about it; by default the
            client's request as it came, whatever the app has changed of
            its environment since.
        :returns: its :class:`Refusal`, or ``None``.
        """
        if self.pending:
            if req is None:
                req = swob.Request(dict(self.env, PATH_INFO=self.path,
                                        REQUEST_METHOD=self.method))
            self.refused = self.judge.judge(req, self.target, self.client)
            # Only once judged: a judgment that raised is still pending,
            # and the next question raises again rather than admit.
            self.pending = False
        return self.refused

    def answer(self, app, req, start_response, write_report=None):
        """*app*'s answer to the client's request, once it is judged.

        A response started before the request is judged is held until it
        is. A refusal (of the request, or of a subrequest whose answer a
        middleware returns as its own) goes out as the filter's own,
        built afresh, whatever was made of the one handed to the app (the
        proxy's CORS handling decorates it). The owner sees stored rules
        under their ``Meta`` names; the changes the request makes to the
        rules are logged when its answer starts, and a successful rule
        write gets the headers *write_report* returns (how many replicas
        hold it).
        """
        env = req.environ
        show_rules = self.method in ('GET', 'HEAD') and \
            rule_headers.holder_kind(self.target) is not None
        held, fresh = [], []

        def judged_start_response(status, headers, exc_info=None):
            if self.pending or self.refused is not None:
                held[:] = [(status, headers, exc_info)]
                return None  # as Swift's WSGIContext: no write()
            refused = self.subrequest_refused
            if refused is not None and status[:3] == str(refused.status):
                fresh.append(refused.response(req)(env, start_response))
                return None
            if show_rules and env.get('swift_owner'):
                headers = list(headers) + rule_headers.shown_rules(
                    headers, *self._operator_shown())
            if write_report is not None and status[:1] == '2':
                headers = list(headers) + write_report()
            for change in self.changes:
                trail.log_done(self.judge.logger, change, status)
            del self.changes[:]
            self.status = status
            return start_response(status, headers, exc_info)

        app_iter = app(env, judged_start_response)
        # Still pending: answered without the question, by the proxy
        # before its controller or by a middleware to the right.
        if self.settle() is not None:
            utils.close_if_possible(app_iter)
            return self.refused.response(req)(env, start_response)
        if held:  # started before it was judged, and admitted since
            judged_start_response(*held[0])
        if fresh:  # started as a subrequest's refusal
            utils.close_if_possible(app_iter)
            return fresh[0]
        if self.subrequest_refused is not None:
            return _fresh_if_refused(app_iter, fresh)  # may start so
        return app_iter

    def _operator_shown(self):
        """What :func:`rule_headers.shown_rules` needs to show it."""
        if self.target.container:
            return None, None
        return (self.judge.reader.operator,
                swob.wsgi_to_str(self.target.account))


def _fresh_if_refused(app_iter, fresh):
    """*app_iter*, or the refusal in *fresh* if it starts as one."""
    try:
        for chunk in app_iter:
            if fresh:
                break
            yield chunk
    finally:
        utils.close_if_possible(app_iter)
    if fresh:
        yield from fresh[0]
