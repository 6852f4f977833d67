#!/usr/bin/python3
"""slowloris.py - slow clients for the tracker's connection limits (e2e 28).

  slowloris.py hold PORT N SECONDS READY
      open N connections from 127.0.0.1, send a partial request on each and
      then one more header byte every 0.3 s, for SECONDS at most; write
      "ready" into the file READY once all are opened, then print
      "accepted A closed C": A connections the server kept past their
      opening (the others it closed at once), C of those it closed while
      their headers were still trickling in
  slowloris.py halfclose PORT SECONDS
      send a partial request, shut down the sending side, wait up to
      SECONDS for the server to close; print "closed" or "open"
"""
import select
import socket
import sys
import time


def hold(port, n, secs, ready):
    conns = []
    for _ in range(n):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        s.connect(('127.0.0.1', port))
        try:
            s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ')
        except OSError:
            pass
        conns.append(s)
    # the server closes the connections over its limit at accept, those it
    # keeps only after the header time cap (longer than this wait)
    time.sleep(2)
    alive = []
    for s in conns:
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                if s.recv(1) == b'':
                    continue
            except OSError:
                continue
        alive.append(s)
    accepted = len(alive)
    with open(ready, 'w') as f:
        f.write('ready\n')
    closed = 0
    end = time.time() + secs
    while alive and time.time() < end:
        for s in list(alive):
            try:
                s.send(b'a')
                r, _, _ = select.select([s], [], [], 0)
                if r and s.recv(1) == b'':
                    raise OSError('closed')
            except OSError:
                alive.remove(s)
                closed += 1
        time.sleep(0.3)
    print('accepted %d closed %d' % (accepted, closed), flush=True)
    return 0


def halfclose(port, secs):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: b')
    time.sleep(0.2)
    s.shutdown(socket.SHUT_WR)
    r, _, _ = select.select([s], [], [], secs)
    try:
        print('closed' if r and s.recv(100) == b'' else 'open')
    except OSError:
        print('closed')
    return 0


if __name__ == '__main__':
    a = sys.argv
    if len(a) == 6 and a[1] == 'hold':
        sys.exit(hold(int(a[2]), int(a[3]), float(a[4]), a[5]))
    if len(a) == 4 and a[1] == 'halfclose':
        sys.exit(halfclose(int(a[2]), float(a[3])))
    sys.stderr.write(__doc__)
    sys.exit(2)
