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

"""The in-process Swift benchmarks still run against the code they measure.

They build the filter and Swift's infos by hand, so a change of either can
leave them measuring an error (every request answered ``503``) or stopping
at their first call, unseen until somebody needs the figure. Each runs
here with the smallest counts: what it prints is not checked, only that it
completes its passes and says so. The figures themselves are in
``doc/source/benchmarks.rst``.
"""

import contextlib
import io
import sys
import unittest
from unittest import mock

from benchmarks import swift_cold
from benchmarks import swift_decision


def run_main(main, *argv):
    """What *main* prints when run with *argv*."""
    out = io.StringIO()
    with mock.patch.object(sys, 'argv', ['benchmark'] + list(argv)), \
            contextlib.redirect_stdout(out):
        main()
    return out.getvalue()


class TestInProcessBenchmarksRun(unittest.TestCase):

    def test_swift_decision(self):
        out = run_main(swift_decision.main, '--number', '2', '--repeat', '1')
        self.assertIn('target: decision', out)
        self.assertIn('ip_whitelist', out.rsplit('request flow', 1)[-1])

    def test_swift_cold(self):
        # Every request must be answered 200 (asserted by the benchmark):
        # a filter refusing or failing would be measured as cheap.
        out = run_main(swift_cold.main, '--pairs', '3', '--flush-mb', '1')
        for count in swift_cold.RULES:
            self.assertIn('whitelist@%d: cold' % count, out)
