#!/usr/bin/env python3
"""A minimal ingest receiver on 127.0.0.1 for the bench: reads each request's whole body
(Content-Length or chunked), answers 202, and appends `<method> <path> <bytes>` to a log.

    receiver.py PORTFILE LOGFILE

Binds an ephemeral port and writes it to PORTFILE. Threaded, HTTP/1.1 with keep-alive; it only
reads and counts bytes, so it is never the bottleneck of a run (a 100 KiB body takes well
under a millisecond)."""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                n += len(self.rfile.read(size))
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                got = self.rfile.read(min(left, 1 << 20))
                if not got:
                    break
                n += len(got)
                left -= len(got)
        body = b'{"status":"accepted"}'
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(LOG, "a") as f:
            f.write(f"{self.command} {self.path} {n}\n")

    do_PUT = do_POST

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    PORTFILE, LOG = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os

    os.replace(PORTFILE + ".tmp", PORTFILE)
    server.serve_forever()
