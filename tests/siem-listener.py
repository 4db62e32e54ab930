#!/usr/bin/env python3
"""siem-listener.py - the syslog side of tests/t0940-siem.sh.

  listen SOCKET OUT         bind a Unix datagram socket (what /dev/log is) and
                            append each datagram received to OUT, one a line
  check FILE APP FACILITY   parse every line of FILE as an RFC 5424 message
                            (PRI = FACILITY * 8 + 5, version 1, TIMESTAMP,
                            HOSTNAME, APP-NAME = APP, PROCID, MSGID = the
                            event's type, no structured data, MSG a JSON
                            event, ASCII only); print each MSG canonically,
                            one a line; exit 1 naming the first bad line
  canon FILE                print each JSON line of FILE canonically

Canonical: sorted keys, no spaces, non-ASCII kept (so a line written with
\\uXXXX escapes and one written in UTF-8 compare equal).
"""
import datetime
import json
import os
import re
import signal
import socket
import sys

RFC5424 = re.compile(
    rb"<(?P<pri>[0-9]{1,3})>(?P<version>[1-9][0-9]{0,2}) "
    rb"(?P<ts>\S+) (?P<host>\S{1,255}) (?P<app>\S{1,48}) (?P<procid>\S{1,128}) "
    rb"(?P<msgid>\S{1,32}) (?P<sd>-|\[.*?\])(?: (?P<msg>.*))?\Z", re.S)
TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})\Z")


def canon(obj):
    return json.dumps(obj, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def listen(path, out):
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)   # the siem may run as the data directory's owner
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(out, "ab") as f:
        while True:
            data = sock.recv(1 << 20)
            # a datagram holding a newline would read as two lines: check
            # then refuses the broken halves
            f.write(data + b"\n")
            f.flush()


def parse(line, app, facility):
    m = RFC5424.match(line)
    if m is None:
        raise ValueError("not RFC 5424 syntax")
    for name in ("ts", "host", "app", "procid", "msgid"):
        if any(b < 33 or b > 126 for b in m.group(name)):
            raise ValueError("%s is not PRINTUSASCII" % name)
    if int(m.group("pri")) != facility * 8 + 5:
        raise ValueError("PRI %s, want %d" % (m.group("pri").decode(),
                                              facility * 8 + 5))
    if m.group("version") != b"1":
        raise ValueError("version is not 1")
    ts = m.group("ts").decode()
    if not TIMESTAMP.match(ts):
        raise ValueError("TIMESTAMP %r is not RFC 3339" % ts)
    datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if m.group("app").decode() != app:
        raise ValueError("APP-NAME %r, want %r" % (m.group("app"), app))
    if not m.group("procid").isdigit():
        raise ValueError("PROCID is not a pid")
    if m.group("sd") != b"-":
        raise ValueError("structured data where none was expected")
    msg = m.group("msg")
    if msg is None or any(b > 127 for b in msg):
        raise ValueError("MSG is missing or not ASCII")
    event = json.loads(msg.decode("ascii"))
    if not isinstance(event, dict):
        raise ValueError("MSG is not a JSON object")
    if m.group("msgid").decode() != event.get("type"):
        raise ValueError("MSGID is not the event's type")
    if ts != event.get("at"):
        raise ValueError("TIMESTAMP is not the event's time")
    return event


def check(path, app, facility):
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            try:
                event = parse(line.rstrip(b"\n"), app, facility)
            except ValueError as e:
                sys.exit("%s line %d: %s: %.200r" % (path, n, e, line))
            print(canon(event))


def canon_file(path):
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            try:
                print(canon(json.loads(line)))
            except ValueError as e:
                sys.exit("%s line %d: %s" % (path, n, e))


def main(argv):
    if len(argv) == 4 and argv[1] == "listen":
        listen(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "check":
        check(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 3 and argv[1] == "canon":
        canon_file(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
