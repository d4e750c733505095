#!/usr/bin/env python3
"""A Tsunagu client written from docs/protocol.md alone, in another language and
on another QUIC stack (aioquic), to check that the document is enough.

    pip install aioquic msgpack
    python3 tools/interop/tsunagu_py_client.py 'tsunagu://127.0.0.1:4433/CODE?fp=HEX'

Two clients join the room in one process: "walker" walks a circle, "watcher"
decodes the delta-coded snapshots and checks that it sees the walker where the
walker really was, and that it is sent the room's things (ball, blocks, darts)
once and then, while they rest, never again. On the wall screen (section 6)
the walker, a participant, tries what only facilitators may (showing a page,
turning, wiping the board, sending page bytes and previews: each refused) and
floods the board with strokes (the excess refused, the rest drawn for the
watcher); a third client sends a stroke over the limits and must be closed
as a violation with a reason. Exits 0 when all of it held, 1 with a reason
otherwise.

    python3 tools/interop/tsunagu_py_client.py --wss 'tsunagu://…'

does the same with the watcher on the WebSocket transport (section 1b, the
`websockets` package) and the walker on QUIC: both in one room.
"""

import asyncio
import functools
import hashlib
import math
import ssl
import struct
import sys
import time
import urllib.parse

import msgpack
import websockets
from cryptography.hazmat.primitives.serialization import Encoding
from aioquic.asyncio import QuicConnectionProtocol, connect
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, DatagramFrameReceived, HandshakeCompleted, StreamDataReceived

PROTOCOL_VERSION = 13
WIDTHS = [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 20, 35]
ZERO = ((0, 0, 0), (3, 0, 0, 0))  # a missing part: origin, identity rotation


def parse_invite(text):
    url = urllib.parse.urlparse(text)
    if url.scheme != "tsunagu":
        raise ValueError("not a tsunagu:// invite")
    query = urllib.parse.parse_qs(url.query)
    fp = query["fp"][0].lower()
    # Section 2: `tcp` names the WebSocket's port; absent, 443.
    tcp = int(query.get("tcp", ["443"])[0])
    return url.hostname, url.port, url.path.lstrip("/"), bytes.fromhex(fp), tcp


# --- poses (section 5) -------------------------------------------------------

def quat_from_yaw(yaw):
    return (0.0, math.sin(yaw / 2), 0.0, math.cos(yaw / 2))


def quant_quat(q):
    n = math.sqrt(sum(c * c for c in q))
    q = [c / n for c in q]
    largest = max(range(4), key=lambda i: abs(q[i]))
    if q[largest] < 0:
        q = [-c for c in q]
    rest = [max(-2047, min(2047, round(q[i] * math.sqrt(2) * 2047))) for i in range(4) if i != largest]
    return [largest] + rest


def quant_pose(pos_m, q):
    return [[round(c * 1000) for c in pos_m], quant_quat(q)]


# --- snapshot poses (section 6, ServerDatagram) -------------------------------

class Bits:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def u(self, n):
        v = 0
        for _ in range(n):
            if self.pos >= len(self.data) * 8:
                raise ValueError("snapshot poses end early")
            v = (v << 1) | ((self.data[self.pos // 8] >> (7 - self.pos % 8)) & 1)
            self.pos += 1
        return v

    def i(self, n):
        v = self.u(n)
        return v - (1 << n) if n and v >= 1 << (n - 1) else v

    def group(self):
        n = WIDTHS[self.u(4)]
        return [self.i(n) if n else 0 for _ in range(3)]


def toward_zero(a, b):
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def extrapolate(now, was, ahead, span):
    line = lambda n, w: n + toward_zero((n - w) * ahead, span)
    pos = tuple(max(-2**31, min(2**31 - 1, line(n, w))) for n, w in zip(now[0], was[0]))
    if now[1][0] == was[1][0]:
        rot = (now[1][0],) + tuple(max(-32768, min(32767, line(n, w))) for n, w in zip(now[1][1:], was[1][1:]))
    else:
        rot = now[1]
    return (pos, rot)


def predict(view, peer, tick):
    if peer not in view:
        return None
    t1, p1, before = view[peer]
    if before is None:
        return p1
    t0, p0 = before
    span, ahead = t1 - t0, tick - t1
    if span == 0 or span > 6 or ahead > 6:
        return p1
    out = [extrapolate(p1[0], p0[0], ahead, span), extrapolate(p1[1], p0[1], ahead, span)]
    if len(p1) == 4:
        out += [extrapolate(p1[2], p0[2], ahead, span), extrapolate(p1[3], p0[3], ahead, span)] if len(p0) == 4 else list(p1[2:])
    return out


def read_pose(bits, base, carried):
    d = bits.group()
    pos = tuple(base[0][k] + carried[k] + d[k] for k in range(3))
    largest = bits.u(2)
    v = bits.group()
    rot = (largest,) + (tuple(base[1][k + 1] + v[k] for k in range(3)) if largest == base[1][0] % 4 else tuple(v))
    return (pos, rot)


def decode_objects(view, tick, data):
    """Section 6, `objects`: thing records until fewer than 8 bits are left."""
    bits = Bits(data)
    things = []
    while len(data) * 8 - bits.pos >= 8:
        if len(things) == 64:
            raise ValueError("too many things")
        thing = bits.u(WIDTHS[bits.u(4)])
        base = predict(view, ("thing", thing), tick)
        things.append((thing, read_pose(bits, base[0] if base else ZERO, (0, 0, 0))))
    padding = len(data) * 8 - bits.pos
    if bits.u(padding) != 0:
        raise ValueError("bad padding")
    return things


def decode_snapshot(view, tick, count, data, objects=b""):
    bits = Bits(data)
    avatars = []
    for _ in range(count):
        peer = bits.u(WIDTHS[bits.u(4)])
        base = list(predict(view, peer, tick) or [ZERO, ZERO])
        base += [ZERO, ZERO] if len(base) == 2 else []
        hands = bits.u(1)
        body = read_pose(bits, base[0], (0, 0, 0))
        carried = tuple(body[0][k] - base[0][0][k] for k in range(3))
        parts = [body, read_pose(bits, base[1], carried)]
        if hands:
            parts += [read_pose(bits, base[2], carried), read_pose(bits, base[3], carried)]
        avatars.append((peer, parts))
    padding = len(data) * 8 - bits.pos
    if padding >= 8 or bits.u(padding) != 0:
        raise ValueError("bad padding")
    things = decode_objects(view, tick, objects)
    # Things are never dropped for age (a thing at rest is not sent again).
    new = {p: e for p, e in view.items() if isinstance(p, tuple) or tick - e[0] <= 90}
    for key, parts in [(peer, parts) for peer, parts in avatars] + [(("thing", t), [pose]) for t, pose in things]:
        old = new.get(key)
        new[key] = (tick, parts, (old[0], old[1]) if old else None)
    return avatars, things, new


# --- one connection -----------------------------------------------------------

class Room:
    """What one client knows of the room, whichever transport brings it."""

    def __init__(self, expected_fp):
        self.welcome = asyncio.get_running_loop().create_future()
        self.views = {}  # tick -> view
        self.newest_tick = None
        self.seen = {}  # peer -> list of (local time, body position mm)
        self.peers = {}
        self.closed = None
        self.expected_fp = expected_fp
        self.control = None
        self.changes = []  # PeerChanged infos, in order
        self.refusals = []
        self.chats = []  # [peer, text] in order
        self.things_seen = []  # (local time, thing id) per thing record decoded
        self.strokes = []  # [peer, StrokePiece] in order

    def on_message(self, msg):
        if isinstance(msg, dict) and "Welcome" in msg:
            self.welcome.set_result(msg["Welcome"])
        elif isinstance(msg, dict) and "Rejected" in msg:
            self.welcome.set_exception(RuntimeError(f"rejected: {msg['Rejected']}"))
        elif isinstance(msg, dict) and "PeerJoined" in msg:
            info = msg["PeerJoined"]
            self.peers[info[0]] = info[1]
        elif isinstance(msg, dict) and "PeerLeft" in msg:
            self.peers.pop(msg["PeerLeft"], None)
        elif isinstance(msg, dict) and "PeerChanged" in msg:
            self.changes.append(msg["PeerChanged"])
        elif isinstance(msg, dict) and "Chat" in msg:
            self.chats.append(msg["Chat"])
        elif isinstance(msg, dict) and "Refused" in msg:
            self.refusals.append(msg["Refused"])
        elif isinstance(msg, dict) and "Stroke" in msg:
            self.strokes.append(msg["Stroke"])
        elif isinstance(msg, dict) and "MovedTo" in msg:
            pass  # Section 7: only a body put somewhere else is told; the walker stays on the floor.
        elif isinstance(msg, dict) and "Closing" in msg:
            self.closed = f"server closing: {msg['Closing']}"

    def on_datagram(self, msg):
        # Section 6: a fifth field, `objects`, only when things moved.
        tick, base_ago, count, poses = msg["S"][:4]
        objects = msg["S"][4] if len(msg["S"]) > 4 else b""
        # Section 6: "newer" across wrap-around.
        if self.newest_tick is not None and not (0 < (tick - self.newest_tick) % 2**32 < 2**31):
            return
        base = {} if base_ago == 0 else self.views.get(tick - base_ago)
        if base is None:
            return
        avatars, things, view = decode_snapshot(base, tick, count, poses, objects)
        self.views = {t: v for t, v in self.views.items() if tick - t < 32}
        self.views[tick] = view
        self.newest_tick = tick
        now = time.monotonic()
        for thing, _ in things:
            self.things_seen.append((now, thing))
        for peer, parts in avatars:
            self.seen.setdefault(peer, []).append((now, parts[0][0]))


class Client(QuicConnectionProtocol, Room):
    def __init__(self, *args, expected_fp, **kwargs):
        QuicConnectionProtocol.__init__(self, *args, **kwargs)
        Room.__init__(self, expected_fp)
        self.buffers = {}
        self.events_out = None

    def send_frame(self, stream, message):
        data = msgpack.packb(message, use_bin_type=True)
        self._quic.send_stream_data(stream, struct.pack(">I", len(data)) + data)
        self.transmit()

    def send_event(self, event):
        # Section 3: the client opens its own unidirectional events stream on first use.
        if self.events_out is None:
            self.events_out = self._quic.get_next_available_stream_id(is_unidirectional=True)
        self.send_frame(self.events_out, event)

    def send_pose(self, seq, pose):
        frame = {"P": [seq, self.newest_tick or 0, pose]}
        self._quic.send_datagram_frame(msgpack.packb(frame, use_bin_type=True))
        self.transmit()

    def quic_event_received(self, event):
        if isinstance(event, HandshakeCompleted):
            # The pin (section 1): the certificate's DER bytes must hash to the invite's fp.
            der = self._quic.tls._peer_certificate.public_bytes(Encoding.DER)
            if hashlib.sha256(der).digest() != self.expected_fp:
                self.closed = "certificate does not match the invite"
                self._quic.close(error_code=0, reason_phrase="pin")
        elif isinstance(event, StreamDataReceived):
            buf = self.buffers.get(event.stream_id, b"") + event.data
            while len(buf) >= 4:
                (n,) = struct.unpack(">I", buf[:4])
                if n > 16384:
                    raise ValueError("frame too long")
                if len(buf) < 4 + n:
                    break
                self.on_message(msgpack.unpackb(buf[4:4 + n], raw=False))
                buf = buf[4 + n:]
            self.buffers[event.stream_id] = buf
        elif isinstance(event, DatagramFrameReceived):
            self.on_datagram(msgpack.unpackb(event.data, raw=False))
        elif isinstance(event, ConnectionTerminated):
            self.closed = self.closed or f"closed: code {event.error_code} {event.reason_phrase}"
            if not self.welcome.done():
                self.welcome.set_exception(RuntimeError(self.closed))

    async def bye(self, cm):
        self.send_frame(self.control, "Bye")
        await cm.__aexit__(None, None, None)


class WssClient(Room):
    """Section 1b: one WebSocket; every message a tag byte, then MessagePack."""

    def __init__(self, ws, expected_fp):
        Room.__init__(self, expected_fp)
        self.ws = ws
        self.reader = asyncio.get_running_loop().create_task(self.read())

    async def read(self):
        try:
            async for message in self.ws:
                if not isinstance(message, bytes) or not message:
                    raise ValueError("section 1b: every message is binary, with a tag")
                tag, body = message[0], message[1:]
                if tag in (1, 2):
                    self.on_message(msgpack.unpackb(body, raw=False))
                elif tag == 3:
                    self.on_datagram(msgpack.unpackb(body, raw=False))
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            self.closed = self.closed or f"closed: code {code} (4000 + {code - 4000 if code else '?'})"
        if not self.welcome.done():
            self.welcome.set_exception(RuntimeError(self.closed or "closed"))

    def send_frame(self, _stream, message):
        asyncio.get_running_loop().create_task(self.ws.send(bytes([1]) + msgpack.packb(message, use_bin_type=True)))

    def send_event(self, event):
        asyncio.get_running_loop().create_task(self.ws.send(bytes([2]) + msgpack.packb(event, use_bin_type=True)))

    def send_pose(self, seq, pose):
        frame = {"P": [seq, self.newest_tick or 0, pose]}
        asyncio.get_running_loop().create_task(self.ws.send(bytes([3]) + msgpack.packb(frame, use_bin_type=True)))

    async def bye(self, _cm):
        await self.ws.send(bytes([1]) + msgpack.packb("Bye", use_bin_type=True))
        await self.ws.close(code=4000, reason="left the room")
        self.reader.cancel()


def pack_points(points):
    """Section 6: 3 bytes a point, x and y as 12-bit numbers, big-endian."""
    return b"".join(bytes([x >> 4, ((x & 0xF) << 4) | (y >> 8), y & 0xFF]) for x, y in points)


async def wall_screen(walker, watcher, walker_id, host, port, code, fp):
    """Section 6, the wall screen, as a participant who should not be able to do much."""
    page = [hashlib.sha256(b"\xff\xd8\xff").digest(), 3, "Jpeg", 1280, 720]
    raw = [{"Screen": {"Show": [page]}}, {"Screen": {"TurnTo": 0}}, {"Screen": "ClearBoard"},
           {"PagePiece": [0, 0, b"\xff\xd8\xff"]}, {"PagePreview": [0, b"\xff\xd8\xff"]}]
    before = len(walker.refusals)
    for event in raw:
        walker.send_event(event)
    await asyncio.sleep(0.3)
    refused = walker.refusals[before:]
    expected = [["Screen", "NotAllowed"]] * 3 + [["PagePiece", "NotAllowed"]] * 2
    print(f"wall screen: a participant's show, turn, wipe, page bytes and preview: refused {refused}")
    if refused != expected:
        return "a participant's wall-screen action was not refused as the document says"
    # A flood of strokes: 20 at once, then 14 a second pass (section 6); the rest are refused TooFast.
    before = len(walker.refusals)
    for n in range(30):
        walker.send_event({"Stroke": [n + 1, "Red", "Thick", pack_points([(100 + n * 100, 500), (150 + n * 100, 900)])]})
    await asyncio.sleep(0.5)
    too_fast = [r for r in walker.refusals[before:] if r == ["Stroke", "TooFast"]]
    drawn = [s for s in watcher.strokes if s[0] == walker_id]
    print(f"a flood of 30 strokes: {len(drawn)} drawn for the watcher, {len(too_fast)} refused TooFast")
    if len(drawn) + len(too_fast) != 30 or not 18 <= len(drawn) <= 24 or walker.closed:
        return "the stroke flood was not limited as the document says"
    # Over the limits (65 points in a piece): not our protocol, so closed with a reason.
    vandal_cm, vandal, _ = await join(host, port, code, fp, "Vandal", (200, 200, 200))
    vandal.send_event({"Stroke": [1, "Blue", "Thin", pack_points([(n, n) for n in range(65)])]})
    for _ in range(20):
        if vandal.closed:
            break
        await asyncio.sleep(0.1)
    print(f"a stroke of 65 points in a piece: {vandal.closed}")
    if not vandal.closed:
        return "a stroke over the limits did not close its sender as a violation"
    if watcher.closed or walker.closed:
        return "the others were closed too"
    return None


def look(color):
    """Section 5: AvatarLook = [body_color, headwear, headwear_color, accessories]."""
    return [list(color), "Tuft", list(color), [False, False, False]]


def hello(code, nickname, color):
    return {"Hello": [PROTOCOL_VERSION, code, nickname, look(color), None, 0]}


async def welcomed(client):
    welcome = await asyncio.wait_for(client.welcome, 5)
    for info in welcome[4]:
        client.peers[info[0]] = info[1]
    return welcome


async def join(host, port, code, fp, nickname, color):
    config = QuicConfiguration(is_client=True, alpn_protocols=["tsunagu/1"], max_datagram_frame_size=65536,
                               verify_mode=ssl.CERT_NONE, server_name="tsunagu", idle_timeout=15)
    cm = connect(host, port, configuration=config, create_protocol=functools.partial(Client, expected_fp=fp))
    client = await cm.__aenter__()
    if client.closed:
        raise RuntimeError(client.closed)
    client.control = client._quic.get_next_available_stream_id()
    client.send_frame(client.control, hello(code, nickname, color))
    return cm, client, await welcomed(client)


async def join_wss(host, tcp_port, code, fp, nickname, color):
    """Section 1b: TLS 1.3 pinned like QUIC, GET /tsunagu with the subprotocol tsunagu.1."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    tls.minimum_version = ssl.TLSVersion.TLSv1_3
    tls.set_alpn_protocols(["http/1.1"])
    ws = await websockets.connect(f"wss://{host}:{tcp_port}/tsunagu", ssl=tls, server_hostname="tsunagu",
                                  subprotocols=["tsunagu.1"], max_size=1 + 16384, ping_interval=4, ping_timeout=15)
    der = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    if hashlib.sha256(der).digest() != fp:
        await ws.close(code=4002)
        raise RuntimeError("certificate does not match the invite")
    client = WssClient(ws, fp)
    client.send_frame(None, hello(code, nickname, color))
    return None, client, await welcomed(client)


async def main(invite, over_wss):
    host, port, code, fp, tcp_port = parse_invite(invite)
    walker_cm, walker, w_welcome = await join(host, port, code, fp, "Walker", (255, 170, 60))
    # Section 5: room codes ignore case.
    if over_wss:
        watcher_cm, watcher, _ = await join_wss(host, tcp_port, code.upper(), fp, "Watcher", (90, 180, 230))
        print(f"the watcher joined over the WebSocket (TCP {tcp_port}), the walker over QUIC")
    else:
        watcher_cm, watcher, _ = await join(host, port, code.upper(), fp, "Watcher", (90, 180, 230))
    walker_id = w_welcome[0]
    print(f"joined: walker is peer {walker_id}, watcher knows {sorted(watcher.peers.values())}")
    sent = []  # (local time, body mm)
    start = time.monotonic()
    seq = 0
    centre = (1.0, 0.0, 1.0)
    while time.monotonic() - start < 6.0:
        t = time.monotonic() - start
        angle = t * 0.6
        body = (centre[0] + 0.8 * math.cos(angle), 0.0, centre[2] + 0.8 * math.sin(angle))
        head = (body[0], 1.15, body[2])
        pose = [quant_pose(body, quat_from_yaw(-angle)), quant_pose(head, quat_from_yaw(-angle)), None]
        walker.send_pose(seq, pose)
        watcher.send_pose(seq, [quant_pose((-1.0, 0.0, -1.0), quat_from_yaw(0)), quant_pose((-1.0, 1.15, -1.0), quat_from_yaw(0)), None])
        sent.append((time.monotonic(), tuple(pose[0][0])))
        seq += 1
        await asyncio.sleep(1 / 30)
    # Section 6: a SetLook on the client's events stream reaches everyone, sender included.
    walker.send_event({"SetLook": look((120, 200, 120))})
    # Section 6: a chat line comes back, normalized, to everyone.
    walker.send_event({"Chat": "  やあ！"})
    await asyncio.sleep(0.3)
    changed = [c for c in watcher.changes if c[0] == walker_id and c[2] == look((120, 200, 120))]
    if [walker_id, "やあ！"] not in watcher.chats:
        print(f"FAIL: the watcher did not get the chat line (got {watcher.chats})")
        return 1
    own = [c for c in walker.changes if c[0] == walker_id]
    print(f"SetLook: the watcher saw {len(changed)} PeerChanged, the walker {len(own)}")
    if not changed or not own:
        print("FAIL: the look change did not come back as PeerChanged")
        return 1
    # Section 6, facilitation: a participant sending facilitator actions raw is
    # refused NotAllowed, each one, and nothing changes.
    actions = [{"Mute": [walker_id, True]}, {"LockRoom": True}, {"SetWaitingRoom": True}, "NewInvites", "EndMeetup"]
    raw = [{"Staff": action} for action in actions]
    before = len(walker.refusals)
    for event in raw:
        walker.send_event(event)
    await asyncio.sleep(0.3)
    refused = walker.refusals[before:]
    print(f"facilitator actions sent raw by a participant: {len(refused)} of {len(raw)} refused {sorted(set(map(tuple, refused)))}")
    if refused != [["Facilitate", "NotAllowed"]] * len(raw):
        print("FAIL: a participant's raw facilitator action was not refused")
        return 1
    # The room walks a newcomer from its spawn place to where it asked to be
    # (section 7): those first positions are the room's, not sent ones. The
    # spawn place depends on how many joined before (the second leg's walker
    # starts over 4 m away), so the first 2.5 s are left out.
    seen = [s for s in watcher.seen.get(walker_id, []) if s[0] - start > 2.5]
    if not seen:
        print("FAIL: the watcher never saw the walker")
        return 1
    # Every position the watcher decoded must be one the walker sent (the server
    # relays positions unchanged when they are within the rules), and recent.
    sent_at = {pos: when for when, pos in sent}
    exact = sum(1 for _, pos in seen if pos in sent_at)
    ages = sorted(when - sent_at[pos] for when, pos in seen if pos in sent_at)
    print(f"watcher decoded {len(seen)} updates of the walker; {exact} match a sent position exactly")
    if ages:
        print(f"age when seen: median {ages[len(ages) // 2] * 1000:.1f} ms, worst {ages[-1] * 1000:.1f} ms")
    # Counted before the wall screen's part, in which nobody sends poses
    # (and so acknowledges nothing): the room then sends whole views again.
    first = {t for when, t in watcher.things_seen if when - start < 1.0}
    later = [t for when, t in watcher.things_seen if when - start > 2.0]
    problem = await wall_screen(walker, watcher, walker_id, host, port, code, fp)
    if problem:
        print(f"FAIL: {problem}")
        return 1
    for cm, client in ((walker_cm, walker), (watcher_cm, watcher)):
        await client.bye(cm)
    print(f"things: {len(first)} sent whole at first, {len(later)} records later while they rested")
    if first != set(range(8)) or later:
        print("FAIL: the room's things were not sent once, or cost bytes at rest")
        return 1
    if exact < len(seen) * 0.95 or len(seen) < 30:
        print("FAIL: decoded positions do not match what was sent")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(asyncio.run(main([a for a in args if a != "--wss"][0], "--wss" in args)))
