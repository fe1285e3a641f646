#!/usr/bin/python3
"""webhook.py PORT - the auth webhook for tests. POST any path with the
connect's JSON; answers by channel_id: "deny-*" {"allowed": false, "reason":
"denied by the test webhook"}, "slow-*" allowed after 3 s, "bad-*" HTTP 500,
anything else {"allowed": true}. Prints each request body as a JSON line."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        req = json.loads(body)
        print(json.dumps(req), flush=True)
        ch = req.get("channel_id", "")
        status, answer = 200, {"allowed": True}
        if ch.startswith("deny-"):
            answer = {"allowed": False, "reason": "denied by the test webhook"}
        elif ch.startswith("slow-"):
            time.sleep(3)
        elif ch.startswith("bad-"):
            status, answer = 500, {"error": "broken"}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
