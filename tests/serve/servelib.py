"""servelib: what the tests of tshoot serve share.

Start the server on a free loopback port (its first log line names it),
talk HTTP to it, validate responses against docs/openapi.json (jsonschema,
Draft 2020-12 as OpenAPI 3.1 uses), and count checks. One process runs all
the checks of a test: nothing here starts an interpreter.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import jsonschema

SOURCE = os.environ["TSHOOT_SOURCE_ROOT"]
TSHOOT = os.environ["TSHOOT_BIN"]
KB = os.environ["TSHOOT_KB"]

SECURITY_HEADERS = {
    "content-security-policy": "script-src 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if cond:
        print("ok - " + what, flush=True)
    else:
        failures += 1
        print("FAIL - " + what, flush=True)
    return cond


def finish():
    print("%d checks, %d failed" % (checks, failures), flush=True)
    sys.exit(1 if failures else 0)


class Server:
    """tshoot serve in a child process; its log lines collected by a thread."""

    def __init__(self, workdir, *args, kb=KB, sessions=None):
        self.workdir = workdir
        self.args = ["--listen", "127.0.0.1:0", "--kb", kb,
                     "--sessions", sessions or os.path.join(workdir, "sessions.db")] + list(args)
        self.log = []
        self.proc = None
        self.port = None
        self.start()

    def start(self):
        self.log_lock = threading.Lock()
        self.proc = subprocess.Popen([TSHOOT, "serve"] + self.args, cwd=self.workdir,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self.port = None
        first = threading.Event()

        def reader(proc):
            for line in proc.stderr:
                with self.log_lock:
                    self.log.append(line.rstrip("\n"))
                m = re.search(r"listening on http://[^ ]*:(\d+)/", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                if "serving KB" in line or "listening on" in line:
                    if self.port is not None and "serving KB" in line:
                        first.set()
            first.set()
        self.reader = threading.Thread(target=reader, args=(self.proc,), daemon=True)
        self.reader.start()
        if not first.wait(30) or self.port is None:
            raise RuntimeError("tshoot serve did not start:\n" + "\n".join(self.log))

    def lines(self):
        with self.log_lock:
            return list(self.log)

    def wait_log(self, pattern, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            for line in self.lines():
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        return None

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)
        self.reader.join(5)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(10)
        else:
            rc = self.proc.returncode
        self.reader.join(5)
        if rc != 0:
            # say why, so that a failure seen once in CI can be read from its log
            print("# tshoot serve exited with status %s; its last log lines:" % rc, flush=True)
            for line in self.lines()[-40:]:
                print("#   " + line, flush=True)
        return rc

    def request(self, method, path, body=None, headers=None, raw=None):
        """(status, headers as a dict of lower-case names, body bytes)"""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        conn.close()
        return out


class OpenAPI:
    """Validates responses against the schema docs/openapi.json gives them."""

    def __init__(self):
        with open(os.path.join(SOURCE, "docs", "openapi.json")) as f:
            self.doc = json.load(f)
        jsonschema.Draft202012Validator.check_schema({"$defs": self.doc["components"]["schemas"]})
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)

    def schema_of(self, template, method, status):
        op = self.doc["paths"][template][method.lower()]
        resp = op["responses"].get(str(status))
        return resp

    def validate(self, template, method, status, headers, body, what):
        resp = self.schema_of(template, method, status)
        if not check(resp is not None, "%s: status %d is documented for %s %s" % (what, status, method, template)):
            return None
        for name, want in SECURITY_HEADERS.items():
            if not check(want in headers.get(name, ""), "%s: security header %s" % (what, name)):
                return None
        if "content" not in resp:
            check(body == b"", "%s: no body" % what)
            return None
        ctype = headers.get("content-type", "")
        media = next(iter(resp["content"]))
        if not check(ctype.startswith(media), "%s: Content-Type %s is %s" % (what, ctype, media)):
            return None
        if not media.endswith("json"):
            return body.decode()
        try:
            data = json.loads(body)
        except ValueError as e:
            check(False, "%s: body is JSON (%s)" % (what, e))
            return None
        try:
            jsonschema.Draft202012Validator(resp["content"][media]["schema"], resolver=self.resolver).validate(data)
            check(True, "%s: %d body matches docs/openapi.json" % (what, status))
        except jsonschema.ValidationError as e:
            check(False, "%s: %d body matches docs/openapi.json: %s at %s" % (what, status, e.message, list(e.absolute_path)))
        return data
