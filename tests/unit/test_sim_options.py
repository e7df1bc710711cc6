"""`iconctl sim`'s options resolved into SimOptions (no process: the option rules only)."""

from __future__ import annotations

import pytest

from iconctl.errors import InputError
from iconctl.sim import SimOptions

ADDRESS = "hx" + "1" * 40


def test_resolve():
    options = SimOptions.resolve(
        listen="127.0.0.1:0", control_listen="[::1]:0", cid="0x10", nid="3",
        fund=[f"{ADDRESS}=1.5"], wait_timeout_ms=90_000, start_height=7, seed=1,
    )  # fmt: skip
    assert (options.host, options.port) == ("127.0.0.1", 0)
    assert (options.control_host, options.control_port) == ("::1", 0)
    assert (options.cid, options.nid, options.start_height) == (16, 3, 7)
    assert options.funds == {ADDRESS: 15 * 10**17}
    assert (options.wait_timeout_ms, options.max_wait_timeout_ms) == (90_000, 90_000)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"listen": "nowhere"}, "--listen: expected HOST:PORT"),
        (
            {"control_listen": "0.0.0.0:0"},
            "--control-listen: the control endpoint binds to loopback",
        ),
        ({"channel": "a/b"}, "--channel: invalid channel name"),
        ({"cid": "zz"}, "--cid: expected a number such as 0x1"),
        ({"nid": str(1 << 32)}, "--nid: out of range"),
        ({"fund": ["hx12=1"]}, "--fund: expected ADDRESS=ICX"),
    ],
)
def test_bad_options_are_input_errors(options, message):
    with pytest.raises(InputError) as caught:
        SimOptions.resolve(**{"listen": "127.0.0.1:0", **options})
    assert caught.value.message.startswith(message)
