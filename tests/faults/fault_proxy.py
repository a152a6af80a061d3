#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""fault_proxy.py - a directory server that fails on command, for
tests/faults/*.sh.

    fault_proxy.py UPSTREAM_HOST UPSTREAM_PORT CERTDIR

Listens on 127.0.0.1 (an ephemeral port, printed on stdout as the first
line) as an ldaps:// server: it terminates TLS with CERTDIR/good.pem and
good.key and passes the plain LDAP messages to the real slapd at
UPSTREAM_HOST:UPSTREAM_PORT (ldap://, no TLS). Seeing the plain messages is
what lets it fail inside TLS, where the client's own code runs.

Commands, one a line on stdin, "ID MODE [ARG]"; once a mode is in force the
proxy prints "ack ID" on stdout:

    pass            answer as the directory does
    down            the port is closed (connections refused) and every
                    open connection is cut; the next mode listens again
    latency SECS    every answer leaves SECS seconds after its request
                    arrived (per LDAP message ID: an operation takes SECS)
    cert NAME       TLS with CERTDIR/NAME.pem and NAME.key (a certificate
                    of the wrong CA, expired, for another host name); open
                    connections are cut, so that clients meet it
    drop            the first answer to a search (an entry, a reference, a
                    Sync Info message or the result) is cut in half and the
                    connection closed: a server that dies mid-search
    garbage KIND    every answer is replaced: KIND junk (bytes that are not
                    BER), ber (an LDAPMessage with the request's message ID
                    and operation whose contents are random); KIND entry:
                    only search result entries are replaced (as ber), the
                    bind and the searches' results pass

A hung server is this process under SIGSTOP: the kernel still accepts
connections, nothing answers. Random bytes come from a seeded generator
(the connection's number): the same run sends the same garbage.
"""
import asyncio
import os
import random
import ssl
import sys

# SearchResultEntry, SearchResultDone, SearchResultReference, Intermediate
SEARCH_TAGS = {0x64, 0x65, 0x73, 0x79}


def ber_length(buf, i):
    """(length, index of the contents) or None when buf ends too soon;
    ValueError when the length cannot be LDAP's."""
    if i >= len(buf):
        return None
    first = buf[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    if n == 0 or n > 4:
        raise ValueError("bad BER length")
    if i + 1 + n > len(buf):
        return None
    return int.from_bytes(buf[i + 1:i + 1 + n], "big"), i + 1 + n


def split_messages(buf):
    """The whole LDAPMessages at the head of buf as (bytes, msgid, op tag),
    and the rest. ValueError for bytes that are not LDAP."""
    out = []
    while buf:
        if buf[0] != 0x30:
            raise ValueError("not an LDAPMessage")
        lv = ber_length(buf, 1)
        if lv is None:
            break
        length, start = lv
        if len(buf) < start + length:
            break
        msg, buf = buf[:start + length], buf[start + length:]
        body = msg[start:]
        if len(body) < 3 or body[0] != 0x02 or body[1] > 4 or \
                len(body) < 3 + body[1]:
            raise ValueError("no message ID")
        idlen = body[1]
        msgid = int.from_bytes(body[2:2 + idlen], "big")
        out.append((msg, msgid, body[2 + idlen]))
    return out, buf


def ber_len_bytes(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def garbage(kind, msgid, tag, rng):
    """What the server sends instead of an answer."""
    if kind == "junk":
        # never 0x30 first: no framing a reader could take for a message
        return bytes([0xA5]) + bytes(rng.getrandbits(8) for _ in range(63))
    body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(4, 48)))
    mid = msgid.to_bytes(max(1, (msgid.bit_length() + 8) // 8), "big")
    op = bytes([tag]) + ber_len_bytes(len(body)) + body
    inner = b"\x02" + bytes([len(mid)]) + mid + op
    return b"\x30" + ber_len_bytes(len(inner)) + inner


class Proxy:
    def __init__(self, host, port, certdir):
        self.upstream = (host, port)
        self.certdir = certdir
        self.mode, self.arg = "pass", None
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.load_cert("good")
        self.server = None
        self.port = 0
        self.conns = set()
        self.nconn = 0

    def load_cert(self, name):
        # a new connection copies the context's certificate when it starts
        self.ctx.load_cert_chain(os.path.join(self.certdir, name + ".pem"),
                                 os.path.join(self.certdir, name + ".key"))

    async def listen(self):
        self.server = await asyncio.start_server(
            self.handle, "127.0.0.1", self.port, ssl=self.ctx,
            reuse_address=True, backlog=64)
        self.port = self.server.sockets[0].getsockname()[1]

    def cut_all(self):
        for c in list(self.conns):
            for w in c:
                w.transport.abort()
        self.conns.clear()

    async def set_mode(self, mode, arg):
        if self.mode == "down" and mode != "down":
            await self.listen()
        self.mode, self.arg = mode, arg
        if mode == "down":
            self.server.close()
            self.cut_all()
        elif mode in ("cert", "pass"):
            self.load_cert(arg if mode == "cert" else "good")
            if mode == "cert":
                self.cut_all()

    async def handle(self, creader, cwriter):
        self.nconn += 1
        rng = random.Random(self.nconn)
        try:
            sreader, swriter = await asyncio.open_connection(*self.upstream)
        except OSError:
            cwriter.transport.abort()
            return
        pair = (cwriter, swriter)
        self.conns.add(pair)
        loop = asyncio.get_running_loop()
        asked = {}  # message ID -> when the request arrived

        def close():
            self.conns.discard(pair)
            for w in pair:
                w.transport.abort()

        async def up():
            buf, parse = b"", True
            try:
                while True:
                    data = await creader.read(65536)
                    if not data:
                        break
                    if parse:
                        try:
                            msgs, buf = split_messages(buf + data)
                        except ValueError:
                            parse = False
                            msgs = []
                        for _, msgid, _ in msgs:
                            asked[msgid] = loop.time()
                    swriter.write(data)
                    await swriter.drain()
            except (OSError, ssl.SSLError):
                pass
            close()

        async def down():
            buf = b""
            try:
                while True:
                    data = await sreader.read(65536)
                    if not data:
                        break
                    try:
                        msgs, buf = split_messages(buf + data)
                    except ValueError:
                        break  # slapd does not send this
                    for raw, msgid, tag in msgs:
                        if self.mode == "latency":
                            wait = asked.get(msgid, 0) + self.arg - loop.time()
                            if wait > 0:
                                await asyncio.sleep(wait)
                        if self.mode == "drop" and tag in SEARCH_TAGS:
                            cwriter.write(raw[:len(raw) // 2])
                            await cwriter.drain()
                            await asyncio.sleep(0.05)
                            close()
                            return
                        if self.mode == "garbage" and (
                                self.arg != "entry" or tag == 0x64):
                            cwriter.write(garbage(self.arg, msgid, tag, rng))
                        else:
                            cwriter.write(raw)
                        await cwriter.drain()
            except (OSError, ssl.SSLError):
                pass
            close()

        await asyncio.gather(up(), down())


async def control(proxy):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        words = line.decode().split()
        if len(words) < 2:
            continue
        ident, mode, arg = words[0], words[1], None
        if mode == "latency":
            arg = float(words[2])
        elif mode in ("cert", "garbage"):
            arg = words[2]
        await proxy.set_mode(mode, arg)
        print("ack", ident, flush=True)
    # stdin closed: the test is over
    proxy.cut_all()


def quiet(loop, context):
    # failed handshakes and aborted connections are what this is for
    pass


async def main():
    if len(sys.argv) != 4:
        sys.exit("usage: fault_proxy.py UPSTREAM_HOST UPSTREAM_PORT CERTDIR")
    asyncio.get_running_loop().set_exception_handler(quiet)
    proxy = Proxy(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    await proxy.listen()
    print(proxy.port, flush=True)
    await control(proxy)


if __name__ == "__main__":
    asyncio.run(main())
