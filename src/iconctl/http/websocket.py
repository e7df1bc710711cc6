"""The server side of WebSocket (RFC 6455) for the HTTP server: the upgrade handshake,
frames in (masked, bounded, fragments joined) and frames out."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass

MAX_MESSAGE = 64 * 1024
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    """The server side of one upgraded connection. Subclass and override the hooks."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self.closed = False

    # hooks
    def on_open(self) -> None: ...
    def on_message(self, text: str) -> None: ...
    def on_close(self) -> None: ...

    def attach(self, transport: asyncio.Transport) -> None:
        """The handshake was sent: frames go to ``transport`` from now on."""
        self._transport = transport
        self.on_open()

    def send_text(self, text: str) -> None:
        if self.closed or self._transport is None:
            return
        self._transport.write(frame(0x1, text.encode()))

    def send_pong(self, payload: bytes) -> None:
        if not self.closed and self._transport is not None:
            self._transport.write(frame(0xA, payload))

    def close(self, code: int = 1000) -> None:
        if self.closed:
            return
        self.closed = True
        if self._transport is not None:
            self._transport.write(frame(0x8, struct.pack("!H", code)))
            self._transport.close()
        self.on_close()


@dataclass
class Upgrade:
    """Returned by a handler to turn the connection into a WebSocket."""

    socket: WebSocket


def handshake(method: str, headers: Mapping[str, str]) -> bytes | None:
    """The 101 answer to an upgrade request, or None when it is not a valid one."""
    key = headers.get("sec-websocket-key", "")
    if "websocket" not in headers.get("upgrade", "").lower() or not key or method != "GET":
        return None
    accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()  # noqa: S324 - fixed by RFC 6455
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
    )


def frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


def receive(ws: WebSocket, buf: bytearray, fragments: bytearray) -> None:
    """Handle every complete frame at the start of ``buf`` (consumed from it); a message is
    delivered once its last fragment arrived. Unmasked or oversized frames close the socket."""
    while not ws.closed:
        if len(buf) < 2:
            return
        b0, b1 = buf[0], buf[1]
        fin, opcode, masked, n = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
        pos = 2
        if n == 126:
            if len(buf) < 4:
                return
            n = struct.unpack_from("!H", buf, 2)[0]
            pos = 4
        elif n == 127:
            if len(buf) < 10:
                return
            n = struct.unpack_from("!Q", buf, 2)[0]
            pos = 10
        if not masked or n > MAX_MESSAGE:  # clients must mask (RFC 6455 5.1)
            ws.close(1002 if not masked else 1009)
            return
        if len(buf) < pos + 4 + n:
            return
        mask = buf[pos : pos + 4]
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(buf[pos + 4 : pos + 4 + n]))
        del buf[: pos + 4 + n]
        if opcode == 0x8:
            ws.close()
            return
        if opcode == 0x9:
            ws.send_pong(payload)
            continue
        if opcode == 0xA:
            continue
        if opcode in (0x0, 0x1, 0x2):
            fragments += payload
            if len(fragments) > MAX_MESSAGE:
                ws.close(1009)
                return
            if fin:
                text = bytes(fragments).decode("utf-8", errors="replace")
                fragments.clear()
                ws.on_message(text)
            continue
        ws.close(1002)
        return
