#!/usr/bin/env python3
"""whreceiver - a webhook receiver for the tests: verifies Standard Webhooks
signatures and records every request, one JSON line each.

usage: whreceiver.py PORT SECRET LOG

Each line of LOG: {"id", "ts", "sig_ok", "answer", "path", "body"} (body
parsed); a request left hanging is logged with "hung": true and answer 0.
GET /_ctl?fail=N&status=CODE&hang=SECONDS changes what it does next:
the next N webhook requests get CODE (default 500); hang=S makes every
request wait S seconds before answering (0: off). GET /_ctl alone answers
"ok" (a readiness probe). Anything else answers 204.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, SECRET, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
KEY = base64.b64decode(SECRET[len("whsec_"):])
state = {"fail": 0, "status": 500, "hang": 0.0}
lock = threading.Lock()


def verify(msg_id, ts, body, header):
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    for part in header.split(" "):
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig, want):
            return abs(time.time() - int(ts)) < 300
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, text=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/_ctl":
            q = parse_qs(u.query)
            with lock:
                for k in ("fail", "status"):
                    if k in q:
                        state[k] = int(q[k][0])
                if "hang" in q:
                    state["hang"] = float(q["hang"][0])
            self.reply(200, b"ok")
            return
        self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            hang = state["hang"]
            code = 200
            if state["fail"] > 0:
                state["fail"] -= 1
                code = state["status"]
        if hang > 0:
            with lock:
                with open(LOG, "a") as f:
                    f.write(json.dumps({"id": self.headers.get("webhook-id", ""),
                                        "sig_ok": False, "answer": 0, "hung": True,
                                        "path": self.path, "body": None}) + "\n")
            time.sleep(hang)
            self.close_connection = True
            return
        msg_id = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "0")
        ok = verify(msg_id, ts, body, self.headers.get("webhook-signature", ""))
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        line = json.dumps({"id": msg_id, "ts": ts, "sig_ok": ok, "answer": code,
                           "path": self.path, "body": parsed})
        with lock:
            with open(LOG, "a") as f:
                f.write(line + "\n")
        self.reply(code)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
