"""Simulators of the third-party systems the hub talks to, speaking real HTTP on 127.0.0.1.

Started by tests and by `qsr run`; each takes fault injection (latency, 5xx, timeouts, dropped
responses after success, duplicate webhooks) through its `/_faults` endpoint or constructor.
"""
