#!/usr/bin/python3
"""visual.py - helpers of the visual test (tests/e2e/27-pixel-visual.t).

  visual.py extract EML OUT   the first text/html part (not an attachment),
                              decoded (transfer encoding, then its charset)
                              into OUT as UTF-8; exit 1 when there is none
  visual.py serve PORT DIR    HTTP on 127.0.0.1:PORT: DIR/NAME as text/html;
                              charset=utf-8 (the header wins over a <meta>)
  visual.py shoot W H LIST OUTDIR WORKDIR
                              one headless Chromium, window W x H, renders
                              each URL of the file LIST into OUTDIR/NAME.W.png
                              and prints "NAME PIXELS LOADED" (open pixels
                              on the page, those that loaded as 1x1)
  visual.py hrefs URL WORKDIR  the href of every <a> of the page as Chromium
                              resolves it, one a line
  visual.py same A.png B.png  exit 0 when both PNGs have the same size and
                              pixels; else print where they differ, exit 1

Independent of mtrack's code: Python's email package and zlib only.
"""
import base64
import email
import json
import email.policy
import http.server
import os
import struct
import sys
import zlib


def extract(eml, out):
    with open(eml, 'rb') as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    for part in msg.walk():
        if part.get_content_type() != 'text/html':
            continue
        if (part.get('Content-Disposition') or '').lower().startswith('attachment'):
            continue
        body = part.get_payload(decode=True) or b''
        cs = part.get_content_charset() or 'us-ascii'
        try:
            text = body.decode(cs, errors='replace')
        except LookupError:
            text = body.decode('latin-1')
        with open(out, 'w', encoding='utf-8') as f:
            f.write(text)
        return 0
    return 1


def serve(port, root):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = os.path.basename(self.path.split('?')[0])
            path = os.path.join(root, name)
            if not name or not os.path.isfile(path):
                self.send_error(404)
                return
            with open(path, 'rb') as f:
                body = f.read()
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(body)))
            self.send_header('Cache-Control', 'no-store')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    http.server.ThreadingHTTPServer(('127.0.0.1', int(port)), Handler).serve_forever()


class Browser:
    """headless Chromium driven over --remote-debugging-pipe (fds 3 and 4):
    one process for many pages, JSON messages ending in NUL"""

    def __init__(self, width, height, profile, log):
        r_cmd, w_cmd = os.pipe()
        r_evt, w_evt = os.pipe()
        pid = os.fork()
        if pid == 0:
            a, b = os.dup(r_cmd) + 100, os.dup(w_evt) + 100
            os.dup2(r_cmd, a)
            os.dup2(w_evt, b)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)
            os.closerange(5, 1024)
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execvp('chromium', ['chromium', '--headless', '--disable-gpu',
                '--no-sandbox', '--hide-scrollbars', '--remote-debugging-pipe',
                '--user-data-dir=' + profile, '--no-first-run',
                '--disable-extensions', '--disable-background-networking',
                '--force-device-scale-factor=1',
                # every host but loopback fails at once: remote images of
                # the corpus fail the same way in both renderings
                '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
                '--window-size=%d,%d' % (width, height), 'about:blank'])
        os.close(r_cmd)
        os.close(w_evt)
        self.pid, self.w, self.r = pid, w_cmd, r_evt
        self.buf, self.next_id, self.events = b'', 0, []

    def _read(self, timeout):
        import select
        while b'\0' not in self.buf:
            ready, _, _ = select.select([self.r], [], [], timeout)
            if not ready:
                raise TimeoutError('no answer from chromium')
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise EOFError('chromium exited')
            self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.w, json.dumps(msg).encode() + b'\0')
        while True:
            m = self._read(timeout)
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise RuntimeError('%s: %s' % (method, m['error']))
                return m.get('result', {})
            self.events.append(m)

    def wait_event(self, method, session, timeout=60):
        while True:
            for i, m in enumerate(self.events):
                if m.get('method') == method and m.get('sessionId') == session:
                    del self.events[i]
                    return m
            self.events.append(self._read(timeout))

    def close(self):
        try:
            self.call('Browser.close', timeout=10)
        except Exception:
            pass
        os.close(self.w)
        os.close(self.r)
        os.waitpid(self.pid, 0)


# the open pixel on the page: whether it came (a 1x1 image loaded) or not
PIXEL_JS = """(() => {
  const p = [...document.images].filter(i => i.src.includes('/open/'));
  return p.length + ' ' + p.filter(i => i.complete && i.naturalWidth === 1).length;
})()"""


def hrefs(url, workdir):
    """print the href of every link of the page at url, as Chromium resolved
    it (WHATWG URL, against the page's <base href>), one a line"""
    b = Browser(800, 600, os.path.join(workdir, 'profile.hrefs'),
                os.path.join(workdir, 'chromium.hrefs.log'))
    try:
        t = b.call('Target.createTarget', {'url': 'about:blank'})
        s = b.call('Target.attachToTarget', {'targetId': t['targetId'],
                   'flatten': True})['sessionId']
        b.call('Page.enable', session=s)
        b.call('Page.navigate', {'url': url}, session=s)
        b.wait_event('Page.loadEventFired', s)
        r = b.call('Runtime.evaluate', {'expression':
                   "[...document.querySelectorAll('a')].map(a => a.href).join('\\n')",
                   'returnByValue': True}, session=s)
        print(r['result']['value'])
    finally:
        b.close()
    return 0


def shoot(width, height, listfile, outdir, workdir):
    """render every URL of listfile (one a line) at width x height into
    outdir/NAME.WIDTH.png; print "NAME pixels loaded" a line"""
    b = Browser(int(width), int(height), os.path.join(workdir, 'profile.' + width),
                os.path.join(workdir, 'chromium.' + width + '.log'))
    try:
        with open(listfile) as f:
            urls = [l.strip() for l in f if l.strip()]
        for url in urls:
            name = url.rsplit('/', 1)[1]
            t = b.call('Target.createTarget', {'url': 'about:blank'})
            s = b.call('Target.attachToTarget', {'targetId': t['targetId'],
                       'flatten': True})['sessionId']
            b.call('Page.enable', session=s)
            b.call('Network.enable', session=s)
            b.call('Network.setCacheDisabled', {'cacheDisabled': True}, session=s)
            b.call('Page.navigate', {'url': url}, session=s)
            b.wait_event('Page.loadEventFired', s)
            r = b.call('Runtime.evaluate', {'expression': PIXEL_JS,
                       'returnByValue': True}, session=s)
            png = b.call('Page.captureScreenshot', {'format': 'png'}, session=s)
            with open(os.path.join(outdir, '%s.%s.png' % (name, width)), 'wb') as f:
                f.write(base64.b64decode(png['data']))
            print(name, r['result']['value'], flush=True)
            b.call('Target.closeTarget', {'targetId': t['targetId']})
    finally:
        b.close()
    return 0


def png_pixels(path):
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB/RGBA PNG"""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError(path + ': not a PNG')
    pos, idat, hdr = 8, b'', None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'IDAT':
            idat += chunk
        elif kind == b'IEND':
            break
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError('%s: PNG type %d/%d not handled' % (path, depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def same(a, b):
    with open(a, 'rb') as f:
        da = f.read()
    with open(b, 'rb') as f:
        db = f.read()
    if da == db:
        return 0
    wa, ha, bpa, ra = png_pixels(a)
    wb, hb, bpb, rb = png_pixels(b)
    if (wa, ha) != (wb, hb):
        print('size %dx%d != %dx%d' % (wa, ha, wb, hb))
        return 1
    if bpa != bpb:
        print('pixel format %d != %d bytes' % (bpa, bpb))
        return 1
    rows = [y for y in range(ha) if ra[y] != rb[y]]
    if not rows:
        return 0
    print('%d rows differ, first at y=%d, last at y=%d' % (len(rows), rows[0], rows[-1]))
    return 1


def main(argv):
    if len(argv) == 4 and argv[1] == 'extract':
        return extract(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == 'serve':
        return serve(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == 'hrefs':
        return hrefs(argv[2], argv[3])
    if len(argv) == 7 and argv[1] == 'shoot':
        return shoot(*argv[2:])
    if len(argv) == 4 and argv[1] == 'same':
        return same(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
