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

"""Sphinx configuration of openstack-ext's documentation.

The operator manuals are the modules' docstrings, rendered with autodoc;
the Nova option reference comes from the oslo.config namespace; the
command's pages from its argparse parsers (``_exts/cli_reference.py``).
"""

import importlib.util
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '_exts'))

extensions = [
    'sphinx.ext.autodoc',
    'oslo_config.sphinxext',
    'openstackdocstheme',
    'cli_reference',
]

# Nova and Swift are imported for their modules' docstrings. "tox -e docs"
# does not install them (nor does an operator need them to read the
# manuals): mock only what is missing, so that where they are installed
# (tools/run-tests.sh) the real modules are imported.
autodoc_mock_imports = [name for name in ('nova', 'swift')
                        if importlib.util.find_spec(name) is None]

# openstackdocstheme
openstackdocs_repo_name = 'x/openstack-ext'
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False

project = 'openstack-ext'
copyright = '2026, openstack-ext authors'
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'
add_module_names = False
html_theme = 'openstackdocs'
html_static_path = []
