#!/usr/bin/env python3
"""verdict_trace.py - play a labelled trace (tests/data/verdict-trace.tsv)
against a running tracker, then score what the store says.
score prints "CHECK STATUS NAME" lines for the TAP script and "# " notes.

  verdict_trace.py play  TRACE BASE CTL CONF EML  > plays.json
  verdict_trace.py score TRACE plays.json EXPORT.jsonl STATS.json

play: each trace line gets a message of its own (mtrackctl rewrite), sent
more than click_min_seconds before its requests (but "fast" lines, sent just
before), then its requests go through the trusted proxy 127.0.0.1 with the
line's address in X-Forwarded-For. score: machine recall, people called
machines, bursts labelled whole, counters equal to the events.
"""
import http.client
import json
import re
import subprocess
import sys
import time
import urllib.parse

HEADERS = {
    "chrome": [("Accept", "text/html,application/xhtml+xml,application/xml;"
                "q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
                "application/signed-exchange;v=b3;q=0.7"),
               ("Accept-Language", "en-GB,en-US;q=0.9,en;q=0.8"),
               ("Upgrade-Insecure-Requests", "1")],
    "edge": [("Accept", "text/html,application/xhtml+xml,application/xml;"
              "q=0.9,image/webp,image/apng,*/*;q=0.8"),
             ("Accept-Language", "en-US,en;q=0.9")],
    "firefox": [("Accept", "text/html,application/xhtml+xml,application/xml;"
                 "q=0.9,image/avif,image/webp,*/*;q=0.8"),
                ("Accept-Language", "en-US,en;q=0.5")],
    "safari": [("Accept", "text/html,application/xhtml+xml,application/xml;"
                "q=0.9,*/*;q=0.8"),
               ("Accept-Language", "en-GB,en;q=0.9")],
    "img-chrome": [("Accept", "image/avif,image/webp,image/apng,"
                    "image/svg+xml,image/*,*/*;q=0.8"),
                   ("Accept-Language", "en-GB,en;q=0.9")],
    "img-firefox": [("Accept", "image/avif,image/webp,*/*"),
                    ("Accept-Language", "en-US,en;q=0.5")],
    "img-safari": [("Accept", "image/webp,image/avif,image/jxl,image/heic,"
                    "image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,"
                    "image/*;q=0.8,*/*;q=0.5"),
                   ("Accept-Language", "en-GB,en;q=0.9")],
    "wininet": [("Accept", "*/*"), ("Accept-Language", "en-GB")],
    "star": [("Accept", "*/*")],
    "none": [],
}


def trace(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) != 6 or f[0] not in ("human", "machine") or \
                f[3] not in HEADERS:
            sys.exit("bad trace line: %r" % line)
        rows.append(dict(label=f[0], action=f[1], ip=f[2], headers=f[3],
                         ua=None if f[4] == "-" else f[4], note=f[5]))
    return rows


def rewrite(ctl, conf, eml, n):
    """send one message through the rewrite: its message id, links, pixel"""
    src = open(eml, encoding="utf-8").read().replace(
        "<m1@example.com>", "<trace-%d@example.com>" % n)
    out = subprocess.run([ctl, "-c", conf, "rewrite", "--quiet",
                          "--from", "news@example.com",
                          "--to", "reader@example.net"],
                         input=src.encode(), capture_output=True, check=True)
    body = out.stdout.decode()
    links = re.findall(r'href="[^"]*(/click/[^"]+)"', body)
    pixel = re.findall(r'src="[^"]*(/open/[^"]+)"', body)
    if len(links) != 5 or len(pixel) != 1:
        sys.exit("rewrite gave %d links, %d pixels" % (len(links), len(pixel)))
    return "<trace-%d@example.com>" % n, links, pixel[0]


def request(base, method, path, row, extra=()):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    c.putheader("X-Forwarded-For", row["ip"])
    if row["ua"] is not None:
        c.putheader("User-Agent", row["ua"])
    for k, v in HEADERS[row["headers"]] + list(extra):
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def play(args):
    path, base, ctl, conf, eml = args
    rows = trace(path)
    msgs = {}
    for i, row in enumerate(rows):
        if row["action"] != "fast":
            msgs[i] = rewrite(ctl, conf, eml, i)
    time.sleep(3)		# past click_min_seconds (2 by default)
    plays = []
    for i, row in enumerate(rows):
        if row["action"] == "fast":
            msgs[i] = rewrite(ctl, conf, eml, i)
        mid, links, pixel = msgs[i]
        want = []
        for step in row["action"].split(","):
            if step == "open":
                want.append(request(base, "GET", pixel, row))
            elif step in ("click", "fast"):
                want.append(request(base, "GET", links[i % 5], row))
            elif step == "head":
                want.append(request(base, "HEAD", links[i % 5], row))
            elif step == "prefetch":
                want.append(request(base, "GET", links[i % 5], row,
                                    [("Sec-Purpose", "prefetch")]))
            elif step == "burst":
                for l in links:
                    want.append(request(base, "GET", l, row))
            else:
                sys.exit("unknown action %s" % step)
        plays.append(dict(row, message_id=mid, answers=want))
    json.dump(plays, sys.stdout)


def score(args):
    path, plays_path, export_path, stats_path = args
    plays = json.load(open(plays_path))
    by_mid = {}
    for line in open(export_path):
        e = json.loads(line)
        by_mid.setdefault(e.get("message_id"), []).append(e)
    n = 0
    fails = 0

    def ok(cond, name):
        nonlocal n, fails
        n += 1
        print("CHECK %d %s" % (0 if cond else 1, name))
        fails += 0 if cond else 1

    answered = sum(len(p["answers"]) for p in plays)
    events = sum(len(v) for v in by_mid.values())
    ok(all(s in (200, 302) for p in plays for s in p["answers"]),
       "every request of the trace was answered (200 or 302)")
    ok(events == answered, "one event per answered request (%d, %d)" %
       (events, answered))
    machines = caught = people = people_machine = 0
    missed = []
    for p in plays:
        evs = by_mid.get(p["message_id"], [])
        for e in evs:
            if p["label"] == "machine":
                machines += 1
                if e["class"] != "human":
                    caught += 1
                else:
                    missed.append(p["note"])
            else:
                people += 1
                if e["class"] != "human":
                    people_machine += 1
                    print("# person called machine: %s (%s %s)" %
                          (p["note"], e["class"], e["reason"]))
        if p["action"] == "burst":
            ok(len(evs) == 5 and all(e["class"] == "scanner" and
                                     e["reason"] == "burst" for e in evs),
               "burst from %s labelled whole: %s" %
               (p["ip"], " ".join("%s/%s" % (e["class"], e["reason"])
                                  for e in evs)))
    recall = caught / machines if machines else 0
    print("# machine events: %d, recognised: %d, recall %.1f%%" %
          (machines, caught, 100 * recall))
    for m in sorted(set(missed)):
        print("# missed: %s" % m)
    print("# people events: %d, called machines: %d" % (people,
                                                       people_machine))
    ok(recall >= 0.95, "machine recall >= 95%% (%.1f%%)" % (100 * recall))
    ok(people_machine == 0, "no person called a machine (%d)" %
       people_machine)
    st = json.load(open(stats_path))
    human_o = sum(1 for v in by_mid.values() for e in v
                  if e["type"] == "open" and e["class"] == "human")
    human_c = sum(1 for v in by_mid.values() for e in v
                  if e["type"] == "click" and e["class"] == "human")
    ok(st["opens_human"] == human_o and st["clicks_human"] == human_c,
       "counters equal the events: human opens %s/%d, clicks %s/%d" %
       (st["opens_human"], human_o, st["clicks_human"], human_c))
    for cls in ("scanner", "proxy", "prefetch", "bot"):
        evc = sum(1 for v in by_mid.values() for e in v
                  if e["type"] == "click" and e["class"] == cls)
        ok(st["clicks_by_class"].get(cls, 0) == evc,
           "clicks of class %s: counter %s, events %d" %
           (cls, st["clicks_by_class"].get(cls, 0), evc))
    return 1 if fails else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "play" and len(sys.argv) == 7:
        play(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "score" and len(sys.argv) == 6:
        sys.exit(score(sys.argv[2:]))
    else:
        sys.exit(__doc__)
