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

"""The request filter that puts IP pools into nova-scheduler's placement query.

Before it asks placement for allocation candidates, nova-scheduler runs the
request filters of ``nova.scheduler.request_filter`` (tenant and AZ
isolation among them), which add ``member_of`` aggregates to the query.
Nova has no entry point for more, so when nova-scheduler loads
``ClientNetworkPoolFilter`` (at start, with its enabled filters),
:func:`install` appends a :class:`PoolRequestFilter` to that module's
``ALL_REQUEST_FILTERS`` (replacing one installed before, so the last
configuration loaded applies).

For every scheduling request but a rebuild (boots and every move), the
request filter asks :mod:`openstack_ext.nova.pool_decision` for the
request's pool and requires placement to return hosts of that pool only,
by the pool's host aggregates (:mod:`openstack_ext.nova.pool_aggregates`).
Placement's cut (``[scheduler] max_placement_results``) is then made among
the pool's hosts, so a pool with room always gets its servers. A request
left unconstrained (``default_pool = *``, a legacy move from a host in no
pool) is not touched, except that placement is forbidden the aggregates of
the ``exclusive_pools``, so that at any cut its candidates are hosts it may
use. A move also forbids placement the hosts it leaves,
so that at a cut of 1 placement's single candidate is another host of the
pool.

:func:`install` also wraps ``SchedulerManager.select_destinations``. When
a pooled request fails with NoValidHost and hostname pools are in use, the
scheduler first catches up with hosts discovered since the last
``openstack-ext sync-pools`` (:meth:`PoolSync.catch_up
<openstack_ext.nova.pool_sync.PoolSync.catch_up>`, add-only, never waited
for) and, if one joined the request's pool, schedules the request once
more. A request that still fails keeps Nova's fault unchanged
("No valid host was found. There are not enough hosts available."), and
the scheduler logs the pool's part at warning level:

* placement finds no host of the pool with room: "No host of IP pool
  'doc' has room for this request (the pool has 2 hosts)." (for a move,
  "... has 2 hosts, including doc-1, which the server leaves");
* placement offers hosts of the pool but Nova's filters turn all of them
  down: "Placement offered hosts of IP pool 'doc' with room for this
  request, but none passed the scheduler's filters (the pool has 2
  hosts).".

The pool's hosts are counted from the host aggregates the scheduler keeps
in memory, which Nova updates at every change.
Refusals that are the pool's own are the fault's reason: "The client's
network is in no IP pool.", "IP pool 'qa' has no compute host.".

The hook relies on things in Nova that are not a public interface:
``ALL_REQUEST_FILTERS`` is a list that ``process_reqspec`` reads when it
runs, ``SchedulerManager.select_destinations`` calls ``process_reqspec``,
takes ``spec_obj`` and is an RPC endpoint method whose NoValidHost
oslo.messaging's ``expected_exceptions`` wraps, ``Destination`` has
``require_aggregates`` and ``append_forbidden_aggregates``, and what
:mod:`openstack_ext.nova.nova_access` reads. :func:`install` checks them
and raises :class:`PlacementHookError`, which stops nova-scheduler at
start, when this Nova is different.
"""

import collections
import functools
import importlib.metadata
import inspect

from oslo_log import log as logging
import oslo_messaging as messaging

from nova import exception
from nova.i18n import _
from nova.objects import request_spec as request_spec_objects
from nova.scheduler import manager
from nova.scheduler import request_filter
from nova.scheduler import utils as scheduler_utils

from openstack_ext.nova import nova_access
from openstack_ext.nova import pool_aggregates
from openstack_ext.nova import pool_decision

LOG = logging.getLogger(__name__)

# Nova's reasons (nova/scheduler/manager.py): placement found nothing, and
# the filters left fewer hosts than servers.
_NO_CANDIDATE = ''
_FILTERED_OUT = _('There are not enough hosts available.')
# Marks the request filter installed here in ALL_REQUEST_FILTERS.
_MARK = '_openstack_ext_pool_hook'

PoolConstraint = collections.namedtuple('PoolConstraint', [
    'pool',       # the pool's name
    'required',   # aggregate UUIDs, one of which a host must be in
    'forbidden',  # aggregate UUIDs no host may be in
    'hosts',      # names of the pool's compute hosts
    'left',       # names of the hosts the move leaves
])


class PlacementHookError(RuntimeError):
    """This Nova's request-filter stage is not what the hook expects."""


class PoolRequestFilter(object):
    """Requires the aggregates of the request's pool in placement's query."""

    def __init__(self, decider, aggregates, left_hosts, sync=None):
        """Decide with *decider*, require what *aggregates* name.

        :param sync: a :class:`~openstack_ext.nova.pool_sync.PoolSync` to
            catch up with new hosts (``hostname_prefix``), or ``None``.
        """
        self.decider = decider
        self.aggregates = aggregates
        self.left_hosts = left_hosts
        self.sync = sync

    def require_ip_pool(self, ctxt, request_spec):
        """Require the aggregates of the request's IP pool."""
        try:
            pool, log_args = self.decider.decide(request_spec)
        except pool_decision.PoolRefused as refused:
            raise exception.RequestFilterFailed(reason=refused.reason)
        in_memory = nova_access.aggregates_in_memory(
            nova_access.host_manager(request_spec))
        if not pool_decision.constrains(pool):
            return self._keep_off_exclusive_pools(ctxt, request_spec,
                                                  in_memory)
        left = frozenset(pool_decision.field(request_spec, 'ignore_hosts')
                         or ())
        try:
            required, forbidden, hosts = self.aggregates.for_pool(
                ctxt, pool, in_memory)
        except pool_aggregates.PoolHasNoHost as exc:
            nova_access.note_constraint(request_spec, PoolConstraint(
                pool, [], set(), frozenset(), left))
            LOG.warning('Refusing instance %(uuid)s: %(reason)s (%(why)s; '
                        'request from %(chain)s)%(note)s',
                        dict(log_args, reason=exc.message,
                             note=self.decider.unknown_pool_note(pool)))
            raise
        if left:
            forbidden = forbidden | self.left_hosts.forbidden(ctxt,
                                                              sorted(left))
        constraint = PoolConstraint(pool, required, forbidden, hosts, left)
        destination = _destination(request_spec)
        destination.require_aggregates(constraint.required)
        if constraint.forbidden:
            destination.append_forbidden_aggregates(constraint.forbidden)
        nova_access.note_constraint(request_spec, constraint)
        LOG.debug('require_ip_pool request filter added aggregates '
                  '%(required)s (forbidden: %(forbidden)s) for instance '
                  '%(uuid)s', {'required': ','.join(constraint.required),
                               'forbidden': ','.join(
                                   sorted(constraint.forbidden)) or 'none',
                               'uuid': request_spec.instance_uuid})
        return True

    def _keep_off_exclusive_pools(self, ctxt, request_spec, in_memory):
        """Forbid an unconstrained request the exclusive pools' hosts."""
        exclusive = self.decider.settings.exclusive_pools
        if not exclusive:
            return False
        forbidden = self.aggregates.naming(ctxt, exclusive, in_memory)
        if not forbidden:
            return False
        _destination(request_spec).append_forbidden_aggregates(forbidden)
        LOG.debug('require_ip_pool request filter forbade aggregates '
                  '%(forbidden)s of exclusive IP pools for instance %(uuid)s',
                  {'forbidden': ','.join(sorted(forbidden)),
                   'uuid': request_spec.instance_uuid})
        return True


def _destination(request_spec):
    """The request's Destination, created when it has none."""
    if ('requested_destination' not in request_spec or
            request_spec.requested_destination is None):
        request_spec.requested_destination = (
            request_spec_objects.Destination())
    return request_spec.requested_destination


def _names_used(function, depth=3):
    """The global and attribute names *function* uses, decorators opened.

    Nova's decorators (``expected_exceptions``) keep the function they
    wrap in their closure, not in ``__wrapped__``.
    """
    names = set(getattr(getattr(function, '__code__', None), 'co_names', ()))
    for cell in getattr(function, '__closure__', None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if depth and callable(inner) and hasattr(inner, '__code__'):
            names |= _names_used(inner, depth - 1)
    return names


def _closure(function):
    """``{free variable: value}`` of *function*'s closure."""
    code = getattr(function, '__code__', None)
    cells = getattr(function, '__closure__', None) or ()
    return dict(zip(getattr(code, 'co_freevars', ()),
                    (cell.cell_contents for cell in cells)))


def _endpoint_problems(method):
    """What makes *method* not Nova's select_destinations RPC endpoint."""
    # oslo.messaging's expected_exceptions(...) returns functions sharing
    # one code object, which keep the wrapped function and the exceptions.
    expected = messaging.expected_exceptions(exception.NoValidHost)(
        lambda: None)
    if getattr(method, '__code__', None) is not expected.__code__:
        return ['SchedulerManager.select_destinations is not wrapped by '
                'oslo.messaging expected_exceptions']
    closure = _closure(method)
    problems = []
    if exception.NoValidHost not in closure.get('exceptions', ()):
        problems.append('SchedulerManager.select_destinations does not '
                        'expect NoValidHost')
    try:
        parameters = inspect.signature(closure.get('func')).parameters
    except (TypeError, ValueError):
        parameters = {}
    if 'spec_obj' not in parameters:
        problems.append('SchedulerManager.select_destinations takes no '
                        'spec_obj')
    return problems


def _problems():
    """What is not as expected about the hook points, if anything."""
    problems = []
    if not isinstance(getattr(request_filter, 'ALL_REQUEST_FILTERS', None),
                      list):
        problems.append('nova.scheduler.request_filter.ALL_REQUEST_FILTERS '
                        'is not a list')
    if 'ALL_REQUEST_FILTERS' not in _names_used(
            getattr(request_filter, 'process_reqspec', None)):
        problems.append('nova.scheduler.request_filter.process_reqspec does '
                        'not read ALL_REQUEST_FILTERS')
    select_destinations = _nova_select_destinations()
    if 'process_reqspec' not in _names_used(select_destinations):
        problems.append('SchedulerManager.select_destinations does not call '
                        'request_filter.process_reqspec')
    problems.extend(_endpoint_problems(select_destinations))
    for method in ('require_aggregates', 'append_forbidden_aggregates'):
        if not callable(getattr(request_spec_objects.Destination, method,
                                None)):
            problems.append('nova.objects.Destination has no %s' % method)
    return problems


def _nova_select_destinations():
    method = getattr(manager.SchedulerManager, 'select_destinations', None)
    return getattr(method, '_openstack_ext_wraps', method)


def install(pool_request_filter):
    """Put *pool_request_filter* in Nova's request filters; idempotent.

    :raises PlacementHookError: naming what differs in this Nova.
    """
    problems = _problems() + nova_access.problems()
    if problems:
        raise PlacementHookError(
            'ClientNetworkPoolFilter cannot add IP pools to the placement '
            'query of this Nova (%s): %s. Without that, pools starve '
            'whenever placement returns only some of the hosts; use a Nova '
            'this openstack-ext release supports.'
            % (importlib.metadata.version('nova'), '; '.join(problems)))
    traced = request_filter.trace_request_filter(
        pool_request_filter.require_ip_pool)
    setattr(traced, _MARK, pool_request_filter)
    request_filter.ALL_REQUEST_FILTERS[:] = [
        f for f in request_filter.ALL_REQUEST_FILTERS
        if not hasattr(f, _MARK)] + [traced]
    select_destinations = manager.SchedulerManager.select_destinations
    if not hasattr(select_destinations, '_openstack_ext_wraps'):
        manager.SchedulerManager.select_destinations = _catching_up(
            select_destinations)


def installed():
    """The :class:`PoolRequestFilter` in Nova's request filters, or None."""
    for candidate in request_filter.ALL_REQUEST_FILTERS:
        if hasattr(candidate, _MARK):
            return getattr(candidate, _MARK)
    return None


def _catching_up(select_destinations):
    """Wrap Nova's RPC endpoint: catch up with new hosts, log the pool."""

    @functools.wraps(select_destinations)
    def wrapper(self, context, *args, **kwargs):
        spec_obj = kwargs.get('spec_obj')
        hook = installed()
        pristine = None
        host_manager = getattr(self, 'host_manager', None)
        if spec_obj is not None:
            nova_access.note_host_manager(spec_obj, host_manager)
        if (hook is not None and hook.sync is not None and
                spec_obj is not None and
                not scheduler_utils.request_is_rebuild(spec_obj)):
            # What the request filters add is not added twice on a retry.
            pristine = spec_obj.obj_clone()
            nova_access.note_host_manager(pristine, host_manager)
        try:
            return select_destinations(self, context, *args, **kwargs)
        except messaging.ExpectedException as expected:
            constraint = (nova_access.constraint(spec_obj)
                          if spec_obj is not None else None)
            if (constraint is None or pristine is None or
                    not isinstance(expected.exc_info[1],
                                   exception.NoValidHost) or
                    constraint.pool not in hook.sync.catch_up(
                        context, host_manager)):
                _log_pool_detail(spec_obj, constraint, expected.exc_info[1])
                raise
        LOG.info('Scheduling instance %(uuid)s again: hosts discovered since '
                 'the last sync joined IP pool %(pool)r',
                 {'uuid': spec_obj.instance_uuid, 'pool': constraint.pool})
        kwargs['spec_obj'] = pristine
        try:
            return select_destinations(self, context, *args, **kwargs)
        except messaging.ExpectedException as expected:
            _log_pool_detail(pristine, nova_access.constraint(pristine),
                             expected.exc_info[1])
            raise

    wrapper._openstack_ext_wraps = select_destinations
    return wrapper


def _log_pool_detail(spec_obj, constraint, error):
    detail = pool_detail(constraint, error)
    if detail is not None:
        LOG.warning('No valid host for instance %(uuid)s: %(detail)s',
                    {'uuid': spec_obj.instance_uuid, 'detail': detail})


def pool_detail(constraint, error):
    """The pool's part of Nova's NoValidHost *error*, or ``None``."""
    if constraint is None or not isinstance(error, exception.NoValidHost):
        return None
    others = sorted(constraint.left & constraint.hosts)
    count = len(constraint.hosts)
    counted = 'the pool has %d host%s' % (count, '' if count == 1 else 's')
    if others:
        counted += ', including %s, which the server leaves' % ', '.join(
            others)
    reason = error.kwargs.get('reason')
    if reason == _NO_CANDIDATE:
        return ('No host of IP pool %r has room for this request (%s).'
                % (constraint.pool, counted))
    if reason == _FILTERED_OUT:
        return ("Placement offered hosts of IP pool %r with room for this "
                "request, but none passed the scheduler's filters (%s)."
                % (constraint.pool, counted))
    return None
