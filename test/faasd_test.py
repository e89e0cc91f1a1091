#!/usr/bin/env python3
"""faasd end to end: serve a manifest, answer HTTP, drain on the first signal
(503 for new requests, calls in flight finish, exit 0), stop at once on the
second (exit 130); state kept in the store beside the manifest across a
restart and a kill -9, in memory with --memory, and a clear error for a
database that is not one. Usage: faasd_test.py FAASD HANDLER_DIR"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

FAASD, HANDLERS = sys.argv[1], sys.argv[2]
DEADLINE_S = 20  # generous: the machine is shared and slow


def start(tmp, args=(), manifest=None):
    manifest = manifest or {
        "runtime": {"log": "stderr", "drain_timeout_ms": 8000},
        "functions": {
            "hello": {"library": os.path.join(HANDLERS, "libhello.so")},
            "slow": {"library": os.path.join(HANDLERS, "libsleeper.so"),
                     "symbol": "sleeper", "timeout_ms": 30000},
        },
        "triggers": {"api": {"type": "http", "port": 0}},
        "rules": [{"trigger": "api", "route": "GET /hello/{name}", "function": "hello"}],
        "store": "memory",
    }
    path = os.path.join(tmp, "m.json")
    with open(path, "w") as f:
        json.dump(manifest, f)
    proc = subprocess.Popen([FAASD, *args, path], stderr=subprocess.PIPE, text=True)
    lines = []
    end = time.time() + DEADLINE_S
    while time.time() < end:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            # Keep draining stderr so faasd never blocks on a full pipe.
            threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
            return proc, int(m.group(1)), lines
    proc.kill()
    raise SystemExit("faasd did not start: " + "".join(lines))


def request(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE_S)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def invoke_slow(port, ms, out):
    try:
        out.append(request(port, "POST", "/2015-03-31/functions/slow/invocations",
                           json.dumps({"ms": ms})))
    except (OSError, http.client.HTTPException) as e:
        out.append(("error", str(e)))


def wait_exit(proc):
    try:
        return proc.wait(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SystemExit("faasd did not exit")


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok -", what)


def graceful(tmp):
    proc, port, _ = start(tmp)
    try:
        graceful_steps(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()


def graceful_steps(proc, port):
    status, body = request(port, "GET", "/hello/faasd")
    check(status == 200 and json.loads(body) == "Hello, faasd!", "GET /hello/faasd answers")
    slow = []
    t = threading.Thread(target=invoke_slow, args=(port, 1500, slow))
    t.start()
    time.sleep(0.5)  # the slow call is running
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    try:
        status, _ = request(port, "GET", "/hello/late")
    except (OSError, http.client.HTTPException):
        status = "closed"
    check(status in (503, "closed"), "new requests are refused while draining (%s)" % status)
    t.join(DEADLINE_S)
    check(slow and slow[0][0] == 200 and b"slept_ms" in slow[0][1],
          "the call in flight finished normally: %r" % (slow,))
    check(wait_exit(proc) == 0, "faasd exits 0 after draining")


def forced(tmp):
    proc, port, _ = start(tmp)
    try:
        forced_steps(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()


def forced_steps(proc, port):
    slow = []
    t = threading.Thread(target=invoke_slow, args=(port, 15000, slow))
    t.start()
    time.sleep(0.5)
    began = time.time()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    code = wait_exit(proc)
    check(code == 130, "a second signal stops at once with 130 (got %s)" % code)
    check(time.time() - began < 10, "without waiting for the 15 s call")
    t.join(DEADLINE_S)


COUNTER_MANIFEST = {
    "runtime": {"log": "stderr"},
    "functions": {"counter": {"library": os.path.join(HANDLERS, "libcounter.so"),
                              "symbol": "counter"}},
    "triggers": {"api": {"type": "http", "port": 0}},
}


def count(port):
    status, body = request(port, "POST", "/2015-03-31/functions/counter/invocations", b"{}")
    check(status == 200, "counter answers (%s %r)" % (status, body))
    return json.loads(body)["count"]


def stop(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    return wait_exit(proc)


def state_survives_restarts(tmp):
    """The default store is faasd.db beside the manifest."""
    proc, port, lines = start(tmp, manifest=COUNTER_MANIFEST)
    check(any("store " + os.path.join(tmp, "faasd.db") in l for l in lines),
          "faasd says where its store is")
    check([count(port), count(port)] == [1, 2], "the counter counts")
    check(stop(proc) == 0, "faasd stops")
    proc, port, _ = start(tmp, manifest=COUNTER_MANIFEST)
    check(count(port) == 3, "the count goes on after a restart")
    check(stop(proc, signal.SIGKILL) == -signal.SIGKILL, "faasd is killed with -9")
    proc, port, _ = start(tmp, manifest=COUNTER_MANIFEST)
    check(count(port) == 4, "and after kill -9")
    stop(proc)
    proc, port, _ = start(tmp, args=("--memory",), manifest=COUNTER_MANIFEST)
    check(count(port) == 1, "--memory starts from nothing")
    stop(proc)
    other = os.path.join(tmp, "other.db")
    proc, port, _ = start(tmp, args=("--store", other), manifest=COUNTER_MANIFEST)
    check(count(port) == 1 and os.path.exists(other), "--store FILE uses that file")
    stop(proc)


def bad_store(tmp):
    db = os.path.join(tmp, "bad.db")
    with open(db, "w") as f:
        f.write("this is not a database " * 200)
    path = os.path.join(tmp, "bad.json")
    manifest = dict(COUNTER_MANIFEST, store={"sqlite": "bad.db"})
    with open(path, "w") as f:
        json.dump(manifest, f)
    r = subprocess.run([FAASD, path], stderr=subprocess.PIPE, text=True, timeout=DEADLINE_S)
    check(r.returncode == 1 and db in r.stderr and "not a libfaas database" in r.stderr,
          "a file that is not a database is refused by name: %r" % r.stderr)
    r = subprocess.run([FAASD, "--memory", "--store", db, path], stderr=subprocess.PIPE,
                       text=True, timeout=DEADLINE_S)
    check(r.returncode == 64, "--memory with --store is a usage error")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        graceful(tmp)
        forced(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        state_survives_restarts(tmp)
    with tempfile.TemporaryDirectory() as tmp:
        bad_store(tmp)
    print("4 passed, 0 failed")


main()
