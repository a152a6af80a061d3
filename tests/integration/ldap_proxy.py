#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# ldap_proxy.py - a TCP proxy in front of a real LDAP server, for
# test_review_holes.sh. It plays the two servers of the review:
#
#   ldap_proxy.py delay SECS HOST PORT
#       a slow server: every chunk the server sends reaches the client SECS
#       seconds later (in order); the client's bytes pass at once.
#   ldap_proxy.py nostarttls HOST PORT
#       a plain server that refuses StartTLS (protocolError, as RFC 4511
#       says a server without TLS answers) and passes everything else to
#       the real server in plain text: it answers like the directory, so a
#       client that falls back to plain text gets real decisions from it.
#
# Listens on 127.0.0.1, an ephemeral port, printed on stdout as the first
# line once it accepts. Runs until killed.
import socket
import sys
import threading
import time

STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


def ber_length(buf, i):
    """(length, index after the length octets) or None if incomplete."""
    if i >= len(buf):
        return None
    first = buf[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    if n == 0 or n > 4 or i + 1 + n > len(buf):
        return None if i + 1 + n > len(buf) else (-1, i)
    return int.from_bytes(buf[i + 1:i + 1 + n], "big"), i + 1 + n


def ber_int_bytes(v):
    n = max(1, (v.bit_length() + 8) // 8)
    return v.to_bytes(n, "big", signed=True)


def refusal(msgid_bytes):
    """ExtendedResponse protocolError (2) for message ID msgid_bytes."""
    op = b"\x0a\x01\x02" + b"\x04\x00" + b"\x04\x00"
    op = b"\x78" + bytes([len(op)]) + op
    body = b"\x02" + bytes([len(msgid_bytes)]) + msgid_bytes + op
    return b"\x30" + bytes([len(body)]) + body


def pump(src, dst, delay):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if delay:
                time.sleep(delay)
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump_nostarttls(client, server):
    """Client to server, answering StartTLS requests itself."""
    buf = b""
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            buf += data
            while True:
                if len(buf) < 2 or buf[0] != 0x30:
                    if buf and buf[0] != 0x30:  # not LDAP: pass it on
                        server.sendall(buf)
                        buf = b""
                    break
                lv = ber_length(buf, 1)
                if lv is None:
                    break
                length, start = lv
                if length < 0:
                    server.sendall(buf)
                    buf = b""
                    break
                if len(buf) < start + length:
                    break
                msg, buf = buf[:start + length], buf[start + length:]
                body = msg[start:]
                # messageID INTEGER, then the protocolOp
                if body[:1] == b"\x02" and len(body) > 2:
                    idlen = body[1]
                    msgid = body[2:2 + idlen]
                    op = body[2 + idlen:]
                    if op[:1] == b"\x77" and STARTTLS_OID in op:
                        client.sendall(refusal(msgid))
                        continue
                server.sendall(msg)
    except OSError:
        pass
    for s in (client, server):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    mode = sys.argv[1]
    if mode == "delay":
        delay = float(sys.argv[2])
        host, port = sys.argv[3], int(sys.argv[4])
    elif mode == "nostarttls":
        delay = 0.0
        host, port = sys.argv[2], int(sys.argv[3])
    else:
        sys.exit("usage: ldap_proxy.py delay SECS HOST PORT | nostarttls HOST PORT")
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    print(lsock.getsockname()[1], flush=True)
    while True:
        client, _ = lsock.accept()
        try:
            server = socket.create_connection((host, port))
        except OSError:
            client.close()
            continue
        if mode == "delay":
            up = threading.Thread(target=pump, args=(client, server, 0.0))
        else:
            up = threading.Thread(target=pump_nostarttls, args=(client, server))
        down = threading.Thread(target=pump, args=(server, client, delay))
        up.daemon = down.daemon = True
        up.start()
        down.start()


if __name__ == "__main__":
    main()
