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

"""Helpers shared by the benchmark scripts: environment, timing, stats.

The scripts are run from the top of the repository as modules
(``python -m benchmarks.NAME``) so that they can import the package and the
test fixtures. They print; they assert nothing about time.
"""

import gc
import logging
import os
import platform
import statistics
import sys
import time


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def versions(*names):
    from importlib import metadata
    found = []
    for name in names:
        try:
            found.append('%s %s' % (name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append('%s (not installed)' % name)
    return ', '.join(found)


def print_environment(title, packages=('swift',)):
    print('== %s' % title)
    print('date:    %s' % time.strftime('%Y-%m-%d %H:%M:%S %Z'))
    print('cpu:     %s x %d (load avg %.2f)' % (
        cpu_model(), os.cpu_count() or 0, os.getloadavg()[0]))
    print('python:  %s (%s)' % (
        platform.python_version(), platform.python_implementation()))
    print('kernel:  %s' % platform.release())
    print('version: %s' % versions(*(('openstack-ext',) + tuple(packages))))
    sys.stdout.flush()


def per_call_us(func, number, repeat=7):
    """Median and minimum µs per call of ``func()`` over *repeat* runs."""
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                func()
            samples.append((time.perf_counter() - start) / number * 1e6)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(samples), min(samples)


def median_ci(values):
    """``(median, low, high)``: a ~95 % distribution-free interval.

    The order statistics around the median (sign-test interval); with fewer
    than 6 values the interval is simply the range.
    """
    data = sorted(values)
    n = len(data)
    med = statistics.median(data)
    if n < 6:
        return med, data[0], data[-1]
    half = 0.98 * n ** 0.5  # 1.96 * sqrt(n) / 2
    low = max(0, int(n / 2 - half))
    high = min(n - 1, int(n / 2 + half + 0.999))
    return med, data[low], data[high]


def quiet_swift_logger(route='ip_whitelist'):
    """A real Swift logger (with statsd methods) that emits nothing."""
    from swift.common import utils
    logger = utils.get_logger({'log_level': 'INFO'}, log_route=route,
                              statsd_tail_prefix='ip_whitelist')
    for handler in list(logger.logger.handlers):
        logger.logger.removeHandler(handler)
        handler.close()
    logger.logger.addHandler(logging.NullHandler())
    return logger
