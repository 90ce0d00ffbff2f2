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

"""``.. openstack-ext-verbs::``: one section per verb of the command.

Each section is the verb's ``--help`` (its options, examples and exit
status, as the command prints them) and the docstring of the module that
implements it, followed by the other modules of ``openstack_ext.cmd``.
Verbs come from the command's own parser, so a new verb appears without
an edit here.
"""

import importlib
import pkgutil

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util import nodes as sphinx_nodes


def _verbs():
    """``[(verb, module name, help text)]`` in the command's order."""
    from openstack_ext.cmd import cli

    return _sub_verbs(cli.build_parser(), 'verb', '')


def _sub_verbs(parser, dest, prefix):
    """The verbs under *parser*'s sub-parsers *dest*, and theirs."""
    (subparsers,) = [a for a in parser._actions
                     if a.dest == dest]  # argparse has no public API
    found = []
    for verb, sub in subparsers.choices.items():
        name = prefix + verb
        sub.prog = 'openstack-ext %s' % name
        run = sub.get_default('run')
        if run is None:  # a verb of sub-verbs (rules verify...)
            (nested,) = [a.dest for a in sub._actions
                         if a.choices and isinstance(a.choices, dict)]
            found.extend(_sub_verbs(sub, nested, name + ' '))
            continue
        found.append((name, run.__module__, sub.format_help()))
    return found


class VerbsDirective(SphinxDirective):

    has_content = False

    def run(self):
        import openstack_ext.cmd

        lines = []
        shown = set()
        for verb, module, text in _verbs():
            shown.add(module)
            title = '``openstack-ext %s``' % verb
            lines += [title, '-' * len(title), '', '.. code-block:: text',
                      '']
            lines += ['   ' + line for line in text.splitlines()]
            lines += ['', '.. automodule:: %s' % module, '   :no-index:', '']
        others = sorted(
            'openstack_ext.cmd.%s' % m.name
            for m in pkgutil.iter_modules(openstack_ext.cmd.__path__)
            if 'openstack_ext.cmd.%s' % m.name not in shown)
        if others:
            lines += ['Inside the command', '-' * 18, '']
            for module in others:
                importlib.import_module(module)
                lines += ['``%s``' % module, '~' * (len(module) + 4), '',
                          '.. automodule:: %s' % module, '   :no-index:', '']
        node = nodes.section()
        node.document = self.state.document
        sphinx_nodes.nested_parse_with_titles(
            self.state, StringList(lines, source='openstack-ext-verbs'),
            node)
        return node.children


def setup(app):
    app.add_directive('openstack-ext-verbs', VerbsDirective)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
