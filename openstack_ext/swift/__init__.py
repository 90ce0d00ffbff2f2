"""The Swift half: the ``ip_whitelist`` proxy middleware.

Never imports Nova.
"""
