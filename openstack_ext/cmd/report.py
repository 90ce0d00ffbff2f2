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

"""What every ``openstack-ext`` verb prints, and its exit status.

Errors and warnings are collected as they are printed, so that the verdict
line and the exit status cannot disagree with what was shown.
"""

import textwrap

OK, PROBLEMS, USAGE = 0, 1, 2  # 2 is also what argparse exits with
WIDTH = 79


class Report(object):
    """A verb's output: lines, errors, warnings and notes."""

    def __init__(self, out):
        self.out = out
        self.errors = []
        self.warnings = []

    def line(self, text='', indent=0):
        self.out.write(' ' * indent + text + '\n')

    def para(self, text, indent=0, first=''):
        """Print *text* wrapped, *first* in front of its first line."""
        lead = ' ' * indent
        self.out.write(textwrap.fill(
            text, WIDTH, initial_indent=lead + first,
            subsequent_indent=lead + ' ' * len(first),
            break_on_hyphens=False, break_long_words=False) + '\n')

    def field(self, name, value, width=18):
        """``name   value`` with *value* wrapped under itself."""
        self.para(value, first=(name + ' ').ljust(width))

    def error(self, text):
        self.errors.append(text)
        self.para(text, first='ERROR: ')

    def warning(self, text):
        self.warnings.append(text)
        self.para(text, first='WARNING: ')

    def note(self, text):
        """Worth knowing, never a problem: does not change the status."""
        self.para(text, first='note: ')

    def verdict(self, ok_text, allow_warnings=False):
        """Print the closing line; return the exit status."""
        if not self.errors and not self.warnings:
            self.line('OK: ' + ok_text)
            return OK
        counts = []
        for count, word in ((len(self.errors), 'error'),
                            (len(self.warnings), 'warning')):
            if count:
                counts.append('%d %s%s' % (count, word,
                                           '' if count == 1 else 's'))
        if not self.errors and allow_warnings:
            self.line('OK with %s (--allow-warnings)' % ' and '.join(counts))
            return OK
        self.line('FAILED: %s' % ' and '.join(counts))
        return PROBLEMS
