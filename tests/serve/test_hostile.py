"""Hostile requests to tshoot serve: each must get a 4xx (its problem+json
when the server, not libmicrohttpd, answers), and the server must keep
serving: bad and deep JSON, invalid UTF-8, huge headers and bodies, '..'
paths, wrong methods and media types, unknown and guessed session ids, the
rate and session limits (429), and slow senders (closed at --timeout while
others are served). No response may be a 5xx, and /metrics must count none.

usage: test_hostile.py WORKDIR   (env: TSHOOT_SOURCE_ROOT, TSHOOT_BIN, TSHOOT_KB)
"""
import json
import os
import random
import re
import shutil
import socket
import sys
import threading
import time

from servelib import Server, check, finish

WORK = sys.argv[1]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
srv = Server(WORK, "--rate", "0", "--timeout", "2")
rng = random.Random(9457)


def raw(data, timeout=10):
    """Send raw bytes; the status code of the answer (0: closed without one)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        # read the rest so that the server is never left writing to us
        try:
            s.settimeout(0.5)
            while len(buf) < 1 << 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    except (ConnectionResetError, BrokenPipeError):
        buf = b""
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return (int(m.group(1)) if m else 0), buf


def req(method, path, body=None, ctype="application/json", headers=()):
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
    data = body if isinstance(body, bytes) else (body.encode() if body is not None else None)
    extra = "".join("%s: %s\r\n" % h for h in headers)
    if data is not None:
        if ctype:
            extra += "Content-Type: %s\r\n" % ctype
        extra += "Content-Length: %d\r\n" % len(data)
    return head.encode("latin-1", "surrogateescape") + extra.encode("latin-1") + b"\r\n" + (data or b"")


results = []   # (what, status)


def hostile(what, data, want=None):
    st, buf = raw(data)
    ok = 400 <= st < 500 and (want is None or st == want)
    results.append((what, st, ok))
    if not ok:
        print("  %s: got %d, wanted %s: %r" % (what, st, want or "4xx", buf[:300]), flush=True)
    return st, buf


# a live session to aim at
st, buf = raw(req("POST", "/v1/sessions", '{"text": "outlook kofmsp.dll error"}'))
sid = re.search(rb'"id":"([0-9a-f]{32})"', buf).group(1).decode()
check(st == 201, "a session to attack was made")
answers = "/v1/sessions/%s/answers" % sid

# ===== bad JSON =====
BAD_JSON = [
    b"", b"{", b"}", b"[", b"{\"unknown\": true", b"{\"unknown\": true}}", b"{'unknown': true}",
    b"{\"unknown\": True}", b"{unknown: true}", b"{\"unknown\": true,}", b"{\"value\": NaN}",
    b"{\"value\": Infinity}", b"/* c */ {\"unknown\": true}", b"{\"value\": \"a\" // c\n}",
    b"[]", b"[1,2]", b"\"text\"", b"42", b"null", b"true", b"{\"value\": \"\\u0000\"}",
    b"{\"value\": \"\\ud800\"}", b"{\"value\": \"\\udc00x\"}", b"{\"value\": \"\xff\xfe\"}",
    b"{\"value\": \"\xc0\xaf\"}", b"{\"value\": \"\xed\xa0\x80\"}", b"\xef\xbb\xbf{\"unknown\": true}",
    b"{\"value\": 1e999999}", b"{\"value\": -}", b"{\"value\": 01}", b"{\"value\": \"a\", \"value\": \"b\"}",
    b"{\"value\": \"\\x41\"}", b"{\"value\": \"\t\"}", b"{\"value\": [\"yes\"]}", b"{\"value\": {\"a\": 1}}",
    b"{\"value\": 1}", b"{\"value\": null}", b"{\"unknown\": false}", b"{\"unknown\": 1}",
    b"{\"question\": 5, \"value\": \"yes\"}", b"{\"revision\": \"1\", \"unknown\": true}",
    b"{\"revision\": 1.5, \"unknown\": true}", b"{}", b"{\"text\": \"\"}",
    b"{\"question\": \"\", \"value\": \"yes\"}", b"{\"question\": \"../../etc/passwd\", \"value\": \"yes\"}",
    b"{\"question\": \"' OR 1=1 --\", \"value\": \"yes\"}",
]
for i, body in enumerate(BAD_JSON):
    hostile("bad JSON %d to answers" % i, req("POST", answers, body))
for depth in (20, 100, 1000, 5000):
    hostile("nested %d arrays" % depth, req("POST", answers, b"[" * depth + b"]" * depth))
    hostile("nested %d objects" % depth, req("POST", "/v1/sessions", b'{"a":' * depth + b"1" + b"}" * depth))
    hostile("unclosed nesting %d" % depth, req("POST", "/v1/sessions", b'{"text":' + b"[" * depth))
NEW_BAD = [
    b"{\"text\": 5}", b"{\"text\": [\"a\"]}", b"{\"answers\": []}", b"{\"answers\": {\"dll.exists\": 1}}",
    b"{\"answers\": {\"dll.exists\": \"maybe\"}}", b"{\"answers\": {\"no.such.question\": \"yes\"}}",
    b"{\"answers\": {\"\": \"yes\"}}", b"{\"symptoms\": \"x\"}", b"{\"symptoms\": [1]}",
    b"{\"symptoms\": [\"no.such.symptom\"]}", b"{\"id\": \"00000000000000000000000000000000\"}",
    b"{\"text\": \"a\", \"text\": \"b\"}", b"{\"text\": \"\xff\"}",
]
for i, body in enumerate(NEW_BAD):
    hostile("bad new-session body %d" % i, req("POST", "/v1/sessions", body), 400)
for i, body in enumerate([b"{}", b"{\"outcome\": \"\"}", b"{\"outcome\": 1}", b"{\"outcome\": \"WORKED\"}",
                          b"{\"outcome\": \"worked\", \"x\": 1}", b"{\"outcome\": null}"]):
    hostile("bad fix body %d" % i, req("POST", "/v1/sessions/%s/fixes/kofmsp.fix.reinstall" % sid, body))

# ===== invalid UTF-8 and odd bytes in paths and queries =====
for i, path in enumerate(["/v1/articles/%FF%FE", "/v1/articles/%C0%AF", "/v1/articles/%ED%A0%80",
                          "/v1/articles/%00", "/v1/articles/a%00b", "/v1/sessions/%FF" * 2,
                          "/v1/articles/" + "x" * 300, "/v1/search?q=a&limit=%FF",
                          "/v1/search?limit=1", "/v1/sessions/" + sid + "/why?question=%FF%FF",
                          "/v1/sessions/" + sid + "/how?cause=%00", "/%FF.html", "/v1/%FF"]):
    hostile("odd bytes in path %d" % i, req("GET", path))
hostile("a q over the limit", req("GET", "/v1/search?q=" + "a" * 5000), 400)

# ===== '..' and other paths outside the page =====
for i, path in enumerate(["/../etc/passwd", "/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
                          "/%2E%2E%2F%2E%2E%2Fmeson.build", "/..", "/.", "/.hidden.html", "/..html",
                          "/index.html/..", "/web/index.html", "/meson.build", "/serve.h", "/main.c",
                          "/index.html%00.css", "/index.html;.css", "//etc/passwd", "/v1/../healthz",
                          "/v1/articles/../../../../etc/passwd", "/v1/articles/..%2f..%2fetc%2fpasswd",
                          "/v1/sessions/../sessions", "/%5c..%5c..%5cwindows%5cwin.ini",
                          "/index.HTML", "/a.b.html", "/robots.txt", "/tshoot-sessions.db",
                          "/sessions.db.key", "/v2/search?q=a", "/v1", "/v1/", "/v1/search/",
                          "/v1/sessions/" + sid + "/fixes", "/v1/sessions/" + sid + "/fixes/a/b",
                          "/v1/sessions/" + sid + "/nothing", "/v1/articles", "/v1/articles/"]):
    st, buf = hostile("path %r" % path, req("GET", path))
    if b"root:" in buf or b"project(" in buf or b"#include" in buf:
        results.append(("path %r leaked a file" % path, st, False))

# ===== wrong methods =====
for method, path in [("PUT", "/v1/search?q=a"), ("DELETE", "/v1/search?q=a"), ("POST", "/v1/search?q=a"),
                     ("PATCH", "/v1/articles/kofmsp"), ("POST", "/v1/articles/kofmsp"),
                     ("GET", "/v1/sessions"), ("PUT", "/v1/sessions"), ("DELETE", "/v1/sessions"),
                     ("PUT", "/v1/sessions/" + sid), ("POST", "/v1/sessions/" + sid),
                     ("GET", answers), ("PUT", answers), ("DELETE", answers),
                     ("GET", "/v1/sessions/%s/back" % sid), ("POST", "/v1/sessions/%s/why" % sid),
                     ("DELETE", "/v1/sessions/%s/how" % sid), ("GET", "/v1/sessions/%s/fixes/x" % sid),
                     ("POST", "/healthz"), ("DELETE", "/metrics"), ("POST", "/"), ("PUT", "/index.html"),
                     ("OPTIONS", "/v1/search"), ("TRACE", "/"), ("FOO", "/v1/search?q=a"),
                     ("CONNECT", "/")]:
    st, buf = hostile("%s %s" % (method, path), req(method, path, "{}" if method in ("POST", "PUT", "PATCH") else None))
    if st == 405:
        results.append(("%s %s: 405 carries Allow" % (method, path), 405 if b"\r\nAllow: " in buf else 0,
                        b"\r\nAllow: " in buf))

# ===== wrong media types =====
for ctype in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
              "application/jsonx", "application/xml", "json", "", "application/json-patch+json",
              "text/json", "application/javascript"]:
    hostile("Content-Type %r" % ctype, req("POST", answers, '{"unknown": true}', ctype=ctype or None), 415)

# ===== sizes =====
hostile("a body over --max-body", req("POST", "/v1/sessions", '{"text": "' + "a" * 20000 + '"}'), 413)
hostile("a Content-Length of 10 GB", b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000000\r\nConnection: close\r\n\r\n{}", 413)
hostile("a Content-Length that is not a number", b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}")
chunks = b"".join(b"1000\r\n" + b"a" * 4096 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
hostile("a chunked body over --max-body", b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks, 413)
hostile("a header of 64 KiB", req("GET", "/healthz", headers=[("X-Big", "a" * 65536)]))
hostile("2000 headers", req("GET", "/healthz", headers=[("X-H%d" % i, "v") for i in range(2000)]))
hostile("a path of 64 KiB", req("GET", "/v1/articles/" + "a" * 65536))
hostile("a header without a colon", b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\nConnection: close\r\n\r\n")
hostile("no Host in HTTP/1.1", b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
hostile("a bare LF request line", b"GET /healthz\nHost: x\n\n")
st, buf = raw(b"\x00\x01\x02\xff\xfe garbage\r\n\r\n")
check(st == 0 or 400 <= st < 500, "bytes that are no HTTP request: closed by libmicrohttpd, or a 4xx")

# ===== unknown and guessed session ids =====
for i in range(40):
    guess = "%032x" % rng.getrandbits(128)
    hostile("guessed session id %d" % i, req("GET", "/v1/sessions/" + guess), 404)
for i, bad in enumerate([sid.upper(), sid[:-1], sid + "0", sid[:-1] + "g", "' OR 1=1 --", "%27%20OR%201%3D1",
                         "*", "%25", sid + "%00", "0" * 64]):
    hostile("malformed session id %d" % i, req("GET", "/v1/sessions/" + bad.replace(" ", "%20")), 404)
    hostile("malformed session id %d (answer)" % i,
            req("POST", "/v1/sessions/%s/answers" % bad.replace(" ", "%20"), '{"unknown": true}'), 404)

check(srv.alive(), "the server is alive after the hostile requests")
bad = [r for r in results if not r[2]]
check(len(results) >= 200, "%d hostile requests sent (at least 200)" % len(results))
check(not bad, "every hostile request got a 4xx (%d did not: %s)" % (len(bad), ", ".join("%s=%d" % (w, s) for w, s, _ in bad[:10])))
st, buf = raw(req("GET", "/v1/search?q=kofmsp"))
check(st == 200 and b'"article":"kofmsp"' in buf, "the server still searches")
st, buf = raw(req("POST", answers, '{"unknown": true}'))
check(st in (200, 409), "the attacked session still takes answers")

# ===== slow senders =====
# stalled: part of the headers, then nothing; --timeout (2 s here) closes them
stalled = []
for i in range(20):
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    stalled.append(s)
t0 = time.time()
st, buf = raw(req("GET", "/v1/search?q=outlook"))
check(st == 200 and time.time() - t0 < 1.5, "with 20 stalled senders connected, others are answered at once")
closed = 0
for s in stalled:
    s.settimeout(max(0.1, t0 + 6 - time.time()))
    try:
        if s.recv(100) == b"":
            closed += 1
    except (ConnectionResetError, socket.timeout):
        closed += isinstance(sys.exc_info()[1], ConnectionResetError)
    s.close()
check(closed == 20 and time.time() - t0 < 6, "stalled senders are closed at --timeout (%d of 20)" % closed)
# a body that trickles in, a byte a second: cut off after 3 x --timeout
s = socket.create_connection(("127.0.0.1", srv.port))
s.sendall(b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{")
t0 = time.time()
cut = False
while time.time() - t0 < 10 and not cut:
    try:
        s.sendall(b" ")
        time.sleep(1)
    except OSError:
        cut = True
if not cut:
    s.settimeout(2)
    try:
        cut = s.recv(100) == b""
    except OSError:
        cut = True
s.close()
check(cut and time.time() - t0 < 10, "a body that trickles in is cut off (after %.1f s)" % (time.time() - t0))

# ===== metrics: no 5xx at all =====
st, buf = raw(req("GET", "/metrics"))
check(st == 200 and b'code="5xx"' not in buf, "/metrics counts no 5xx")
check(srv.stop() == 0, "the server stops cleanly")

# ===== the rate limit and the sessions limit =====
srv = Server(WORK, "--rate", "5", "--max-sessions", "3", "--max-connections-per-client", "4",
             sessions=os.path.join(WORK, "limits.db"))
codes = [raw(req("GET", "/healthz"))[0] for _ in range(30)]
check(codes.count(429) > 0 and codes[0] == 200, "past --rate a client gets 429 (%d of 30)" % codes.count(429))
st, buf = raw(req("GET", "/healthz"))
check(st == 429 and re.search(rb"\r\nRetry-After: \d+", buf) and b"application/problem+json" in buf,
      "a 429 says when to retry, as problem+json")
time.sleep(2.5)
codes = []
for i in range(5):
    codes.append(raw(req("POST", "/v1/sessions", '{"text": "outlook"}'))[0])
    time.sleep(0.25)
check(codes[:3] == [201, 201, 201] and codes[3:] == [429, 429], "past --max-sessions a client gets 429 (%s)" % codes)
# trickling senders hold connections only up to --max-connections-per-client:
# then that address is refused while other addresses are served
trickle = []
for i in range(4):
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    trickle.append(s)
time.sleep(0.3)
st, buf = raw(req("GET", "/healthz"))
check(st == 0, "past --max-connections-per-client the same address gets no connection")
other = socket.socket()
other.bind(("127.0.0.2", 0))
other.settimeout(5)
other.connect(("127.0.0.1", srv.port))
other.sendall(req("GET", "/healthz"))
got = other.recv(100)
other.close()
check(got.startswith(b"HTTP/1.1 200"), "another address is served meanwhile")
for s in trickle:
    s.close()
check(srv.stop() == 0, "the limited server stops cleanly")
finish()
