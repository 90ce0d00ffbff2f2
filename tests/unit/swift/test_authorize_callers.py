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

"""Who in Swift asks ``swift.authorize``, as reviewed.

The filter's :class:`~openstack_ext.swift.judge.Judgment` takes a
question about the client's own request (its environment, its path) for
that request. A Swift caller that asks about the client's request while
meaning another container (SLO's async delete did: ``judge.
without_async_delete``) would be answered with the wrong container's
verdict. Every caller in the installed Swift was read for that; a Swift
that adds or moves one fails here, naming the file, until it is read too.
"""

import collections
import os
import re
import tempfile

import swift
import testtools

ASK = re.compile(r"\['swift\.authorize'\]\(")

#: Calls per file in Swift 2.38, each read. About the request's own path
#: and container: the proxy's controllers and server, staticweb,
#: container_quotas, and versioned_writes (legacy and object_versioning
#: check the request's own container's write ACL before they copy; the
#: archive a legacy location names is a linked container the filter
#: judges itself). About another container with only ``req.acl``
#: swapped: slo, for the segments of an async delete, which the filter
#: turns into the synchronous one.
REVIEWED = {
    'common/middleware/container_quotas.py': 1,
    'common/middleware/slo.py': 2,
    'common/middleware/staticweb.py': 1,
    'common/middleware/versioned_writes/legacy.py': 2,
    'common/middleware/versioned_writes/object_versioning.py': 2,
    'proxy/controllers/container.py': 2,
    'proxy/controllers/obj.py': 4,
    'proxy/server.py': 1,
}


def callers(top):
    """``{file under swift/: calls of swift.authorize}``."""
    found = collections.Counter()
    for root, _dirs, files in os.walk(top):
        if os.sep + 'test' in root:
            continue
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(root, name)
                with open(path, encoding='utf-8') as source:
                    count = sum(len(ASK.findall(line)) for line in source
                                if not line.lstrip().startswith('#'))
                if count:
                    found[os.path.relpath(path, top)] += count
    return dict(found)


class TestAuthorizeCallers(testtools.TestCase):

    def test_every_caller_was_reviewed(self):
        self.assertEqual(REVIEWED, callers(os.path.dirname(swift.__file__)))

    def test_a_new_caller_is_seen(self):
        # Positive control of the scan itself.
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        top = scratch.name
        with open(os.path.join(top, 'new.py'), 'w') as source:
            source.write("resp = env['swift.authorize'](req)\n")
        self.assertEqual({'new.py': 1}, callers(top))
