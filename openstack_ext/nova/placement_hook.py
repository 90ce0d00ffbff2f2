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

Failures, as the server fault shows them (``No valid host was found.``
followed by the reason):

* the client is in no pool: "The client's network is in no IP pool.";
* no compute host is in the pool: "IP pool 'qa' has no compute host.";
* the pool has hosts but placement finds none with room, or Nova's other
  filters turn all of them down: Nova's own reason, as in a full cloud
  (the scheduler's debug log names the pool and its aggregates).

The hook relies on three things in Nova that are not a public interface:
``ALL_REQUEST_FILTERS`` is a list that ``process_reqspec`` reads when it
runs, ``SchedulerManager.select_destinations`` calls ``process_reqspec``,
and ``Destination`` has ``require_aggregates``. :func:`install` checks
them and raises :class:`PlacementHookError`, which stops nova-scheduler at
start, when this Nova is different.
"""

import importlib.metadata

from oslo_log import log as logging

from nova.objects import request_spec as request_spec_objects
from nova.scheduler import manager
from nova.scheduler import request_filter

LOG = logging.getLogger(__name__)

# The ClientNetworkPoolFilter the hook asks; the one loaded last.
_pool_filter = None


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


def _problems():
    """What is not as expected about the hook point, if anything."""
    problems = []
    if not isinstance(getattr(request_filter, 'ALL_REQUEST_FILTERS', None),
                      list):
        problems.append('nova.scheduler.request_filter.ALL_REQUEST_FILTERS '
                        'is not a list')
    if 'ALL_REQUEST_FILTERS' not in _names_used(
            getattr(request_filter, 'process_reqspec', None)):
        problems.append('nova.scheduler.request_filter.process_reqspec does '
                        'not read ALL_REQUEST_FILTERS')
    if 'process_reqspec' not in _names_used(
            getattr(manager.SchedulerManager, 'select_destinations', None)):
        problems.append('SchedulerManager.select_destinations does not call '
                        'request_filter.process_reqspec')
    for method in ('require_aggregates', 'append_forbidden_aggregates'):
        if not callable(getattr(request_spec_objects.Destination, method,
                                None)):
            problems.append('nova.objects.Destination has no %s' % method)
    return problems


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


@request_filter.trace_request_filter
def require_ip_pool(ctxt, request_spec):
    """Require the placement aggregates of the request's IP pool."""
    if _pool_filter is None:
        return False
    aggregates = _pool_filter.placement_aggregates(ctxt, request_spec)
    if aggregates is None:
        return False
    required, forbidden = aggregates
    if ('requested_destination' not in request_spec or
            request_spec.requested_destination is None):
        request_spec.requested_destination = (
            request_spec_objects.Destination())
    destination = request_spec.requested_destination
    destination.require_aggregates(required)
    if forbidden:
        destination.append_forbidden_aggregates(forbidden)
    LOG.debug('require_ip_pool request filter added aggregates %(required)s '
              '(forbidden: %(forbidden)s) for instance %(uuid)s',
              {'required': ','.join(required),
               'forbidden': ','.join(sorted(forbidden)) or 'none',
               'uuid': request_spec.instance_uuid})
    return True
