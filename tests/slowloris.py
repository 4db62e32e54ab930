#!/usr/bin/env python3
"""slowloris.py - many slow HTTP clients at once, for t0997-floods.

    slowloris.py PORT CONNECTIONS SECONDS [INTERVAL]

Holds CONNECTIONS connections to 127.0.0.1:PORT for SECONDS (or until
SIGTERM).  Each sends
a request line and then its headers one byte every INTERVAL seconds
(default 3; the connections take turns, so the bytes are spread over the
interval) and never ends them.  A connection the server closes, or
answers (a 408, say), is counted and opened again at once, as an
attacker would.  Prints "holding N" the first time N connections are
open, then at the end one line:

    slowloris opened=N held_max=N held_end=N dropped=N answered=N
              connect_errors=N bytes=N lifetime_max_s=S

dropped counts connections the server ended (answered among them: it sent
something first); lifetime_max_s is the longest a dropped connection
lived.  Exit status 0, or 2 on bad arguments.
"""
import errno
import resource
import selectors
import signal
import socket
import sys
import time

REQUEST = (b"GET /api/v1/kill-switch/check?target_type=agent&target_id=slow HTTP/1.1\r\n"
           b"Host: 127.0.0.1\r\n")
# one byte at a time, for ever: a header line is never finished twice in a
# row without the next one starting, so the headers never end
TRICKLE = b"X-Slow: a\r\n"
TICK = 0.1


class Client:
    def __init__(self, slot):
        self.slot = slot
        self.sock = None
        self.sent = 0
        self.opened_at = 0.0
        self.answered = False


def usage():
    sys.stderr.write("usage: slowloris.py PORT CONNECTIONS SECONDS [INTERVAL]\n")
    sys.exit(2)


def main():
    if len(sys.argv) not in (4, 5):
        usage()
    try:
        port = int(sys.argv[1])
        want = int(sys.argv[2])
        seconds = float(sys.argv[3])
        interval = float(sys.argv[4]) if len(sys.argv) == 5 else 3.0
    except ValueError:
        usage()
    if not (0 < port < 65536 and 0 < want <= 60000 and seconds > 0 and interval >= TICK):
        usage()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, want + 64), hard))

    sel = selectors.DefaultSelector()
    clients = [Client(i) for i in range(want)]
    stats = dict(opened=0, held_max=0, dropped=0, answered=0, connect_errors=0,
                 bytes=0, lifetime_max=0.0)
    held = 0
    announced = False

    def close(c, now):
        nonlocal held
        sel.unregister(c.sock)
        c.sock.close()
        c.sock = None
        held -= 1
        stats["dropped"] += 1
        stats["answered"] += c.answered
        stats["lifetime_max"] = max(stats["lifetime_max"], now - c.opened_at)

    def open_(c, now):
        nonlocal held
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(REQUEST)
        except OSError:
            s.close()
            stats["connect_errors"] += 1
            return
        s.setblocking(False)
        c.sock, c.sent, c.opened_at, c.answered = s, 0, now, False
        sel.register(s, selectors.EVENT_READ, c)
        held += 1
        stats["opened"] += 1
        stats["bytes"] += len(REQUEST)

    start = time.monotonic()
    end = start + seconds

    def stop(signum, frame):
        nonlocal end
        end = 0.0
    signal.signal(signal.SIGTERM, stop)
    steps = max(1, int(round(interval / TICK)))
    tick = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        # at most 200 (re)connections a tick: a server that refuses is not
        # hammered by a busy loop
        budget = 200
        for c in clients:
            if c.sock is None and budget > 0:
                budget -= 1
                open_(c, now)
        if held > stats["held_max"]:
            stats["held_max"] = held
        if not announced and held >= want:
            announced = True
            print("holding %d" % held, flush=True)
        # this tick's share of the connections sends its next byte
        for c in clients[tick % steps::steps]:
            if c.sock is None:
                continue
            try:
                c.sock.send(TRICKLE[c.sent % len(TRICKLE):c.sent % len(TRICKLE) + 1])
                c.sent += 1
                stats["bytes"] += 1
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK):
                    close(c, now)
        tick += 1
        deadline = start + tick * TICK
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                break
            for key, _ in sel.select(wait):
                c = key.data
                try:
                    data = c.sock.recv(4096)
                except OSError:
                    data = b""
                if data:
                    # an answer (408, 400...): the server ends it
                    c.answered = True
                    continue
                close(c, time.monotonic())

    print("slowloris opened=%d held_max=%d held_end=%d dropped=%d answered=%d "
          "connect_errors=%d bytes=%d lifetime_max_s=%.1f" % (
              stats["opened"], stats["held_max"], held, stats["dropped"],
              stats["answered"], stats["connect_errors"], stats["bytes"],
              stats["lifetime_max"]), flush=True)
    for c in clients:
        if c.sock is not None:
            c.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
