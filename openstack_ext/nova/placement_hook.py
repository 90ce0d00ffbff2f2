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
:func:`install` appends :func:`require_ip_pool` to that module's
``ALL_REQUEST_FILTERS``, once per process however often it is called.

For every scheduling request but a rebuild (boots and every move),
:func:`require_ip_pool` resolves the request's pool as the host filter does
and requires placement to return hosts of that pool only, by the
aggregates of :mod:`openstack_ext.nova.pool_aggregates`. Placement's cut
(``[scheduler] max_placement_results``) is then made among the pool's
hosts, so a pool with room always gets its servers. A request left
unconstrained (``default_pool = *``, a legacy move from a host in no pool)
is not touched. The host filter still checks every host it sees, so a
placement aggregate that is out of date can never place a server outside
its pool.

A move also forbids placement the hosts it leaves (Nova's
``ignore_hosts``, which Nova itself drops only after placement's cut), by
one-host placement aggregates (see :mod:`openstack_ext.nova.pool_aggregates`),
so that at a cut of 1 placement's single candidate is another host of the
pool. Unconstrained moves are left exactly to Nova (which, at
a cut of 1, fails a move whose one candidate is the host it leaves:
"There are not enough hosts available.").

Failures, as the server fault shows them (``No valid host was found.``
followed by the reason):

* the client is in no pool: "The client's network is in no IP pool.";
* no compute host is in the pool: "IP pool 'qa' has no compute host.";
* placement finds no host of the pool with room: "No host of IP pool
  'doc' has room for this request (the pool has 2 hosts)." (for a move,
  "... has 2 hosts, including doc-1, which the server leaves");
* placement offers hosts of the pool but Nova's filters turn all of them
  down: "Placement offered hosts of IP pool 'doc' with room for this
  request, but none passed the scheduler's filters (the pool has 2
  hosts).". Placement offers at most ``max_placement_results`` of them:
  other hosts of the pool may have passed.

For these last two, :func:`install` also wraps
``SchedulerManager.select_destinations``: when it fails with Nova's own
NoValidHost for a request this hook constrained, the reason is replaced
by one naming the pool; every other request and reason is Nova's.

The hook relies on things in Nova that are not a public interface:
``ALL_REQUEST_FILTERS`` is a list that ``process_reqspec`` reads when it
runs, ``SchedulerManager.select_destinations`` calls ``process_reqspec``,
takes ``spec_obj`` and is an RPC endpoint method whose NoValidHost
oslo.messaging's ``expected_exceptions`` wraps, and ``Destination`` has
``require_aggregates`` and ``append_forbidden_aggregates``.
:func:`install` checks them and raises :class:`PlacementHookError`, which
stops nova-scheduler at start, when this Nova is different.
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

LOG = logging.getLogger(__name__)

# The ClientNetworkPoolFilter the hook asks; the one loaded last.
_pool_filter = None
# Where require_ip_pool leaves its constraint for the fault: on the
# scheduler's own RequestSpec object, never serialised.
_CONSTRAINT = '_openstack_ext_pool_constraint'
# Nova's reasons (nova/scheduler/manager.py): placement found nothing, and
# the filters left fewer hosts than servers.
_NO_CANDIDATE = ''
_FILTERED_OUT = _('There are not enough hosts available.')

PoolConstraint = collections.namedtuple('PoolConstraint', [
    'pool',       # the pool's name
    'required',   # aggregate UUIDs, one of which a host must be in
    'forbidden',  # aggregate UUIDs no host may be in
    'hosts',      # names of the pool's compute hosts
    'left',       # names of the hosts the move leaves
])


class PlacementHookError(RuntimeError):
    """This Nova's request-filter stage is not what the hook expects."""


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


def install(pool_filter):
    """Make :func:`require_ip_pool` ask *pool_filter*; idempotent.

    :raises PlacementHookError: naming what differs in this Nova.
    """
    global _pool_filter
    problems = _problems()
    if problems:
        raise PlacementHookError(
            'ClientNetworkPoolFilter cannot add IP pools to the placement '
            'query of this Nova (%s): %s. Without that, pools starve '
            'whenever placement returns only some of the hosts; use a Nova '
            'this openstack-ext release supports.'
            % (importlib.metadata.version('nova'), '; '.join(problems)))
    _pool_filter = pool_filter
    if require_ip_pool not in request_filter.ALL_REQUEST_FILTERS:
        request_filter.ALL_REQUEST_FILTERS.append(require_ip_pool)
    select_destinations = manager.SchedulerManager.select_destinations
    if not hasattr(select_destinations, '_openstack_ext_wraps'):
        manager.SchedulerManager.select_destinations = _naming_the_pool(
            select_destinations)


@request_filter.trace_request_filter
def require_ip_pool(ctxt, request_spec):
    """Require the placement aggregates of the request's IP pool."""
    if _pool_filter is None:
        return False
    constraint = _pool_filter.placement_aggregates(ctxt, request_spec)
    if constraint is None:
        return False
    if ('requested_destination' not in request_spec or
            request_spec.requested_destination is None):
        request_spec.requested_destination = (
            request_spec_objects.Destination())
    destination = request_spec.requested_destination
    destination.require_aggregates(constraint.required)
    if constraint.forbidden:
        destination.append_forbidden_aggregates(constraint.forbidden)
    setattr(request_spec, _CONSTRAINT, constraint)
    LOG.debug('require_ip_pool request filter added aggregates %(required)s '
              '(forbidden: %(forbidden)s) for instance %(uuid)s',
              {'required': ','.join(constraint.required),
               'forbidden': ','.join(sorted(constraint.forbidden)) or 'none',
               'uuid': request_spec.instance_uuid})
    return True


def _naming_the_pool(select_destinations):
    """Wrap Nova's RPC endpoint so that its NoValidHost names the pool."""

    @functools.wraps(select_destinations)
    def wrapper(self, context, *args, **kwargs):
        try:
            return select_destinations(self, context, *args, **kwargs)
        except messaging.ExpectedException as expected:
            reason = _pool_reason(getattr(kwargs.get('spec_obj'),
                                          _CONSTRAINT, None),
                                  expected.exc_info[1])
            if reason is None:
                raise
            try:
                raise exception.NoValidHost(reason=reason)
            except exception.NoValidHost:
                # As expected_exceptions does, so that RPC sends it back.
                raise messaging.ExpectedException()

    wrapper._openstack_ext_wraps = select_destinations
    return wrapper


def _pool_reason(constraint, error):
    """The reason naming the pool for Nova's *error*, or ``None``."""
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
