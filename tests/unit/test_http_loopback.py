"""Which peers and listen addresses count as loopback: the agent's drain switch, the
simulator's control endpoint and the status page server trust nothing else."""

from __future__ import annotations

import pytest

from iconctl.http.server import is_loopback


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1", "localhost"]
)
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "127.attacker.example",  # a name that merely starts like a loopback address
        "127.0.0.1.nip.example",
        "127.",
        "1270.0.0.1",
        "::ffff:10.0.0.1",
        "10.0.0.1",
        "0.0.0.0",
        "::",
        "localhost.attacker.example",
        "",
    ],
)
def test_other_hosts_are_not_loopback(host):
    assert not is_loopback(host)
