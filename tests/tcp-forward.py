#!/usr/bin/env python3
"""tcp-forward.py - for tests/t1100-replication.sh.

  tcp-forward.py LISTEN_ADDR PORT TO_ADDR TO_PORT

Accepts TCP connections on LISTEN_ADDR:PORT and copies each, both ways,
to a connection of its own to TO_ADDR:TO_PORT, until either side closes.
The shipped web-server confs listen on 127.0.0.1 only; inside a site's
network namespace this makes the site's server answer on the site's own
address too, so that a redirect to its base URL can be followed from
another site.  Runs until killed.
"""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    addr, port, to_addr, to_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, port))
    listener.listen(128)
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection((to_addr, to_port))
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main()
