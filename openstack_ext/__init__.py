"""openstack-ext: IP-prefix pools for Nova, an IP whitelist for Swift.

The two halves are independent: importing :mod:`openstack_ext.swift` never
imports Nova and importing :mod:`openstack_ext.nova` never imports Swift.
"""
