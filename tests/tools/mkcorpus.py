#!/usr/bin/env python3
"""mkcorpus.py - write tests/data/corpus/*.eml: newsletters in the template
styles, transfer encodings and charsets mtrack must handle. The files are
committed; run this again only to change the corpus."""
import base64
import os
import quopri
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "corpus")


def qp(b):
    return quopri.encodestring(b).decode("ascii")


def b64(b):
    s = base64.b64encode(b).decode("ascii")
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\n"


def head(subject, ctype, extra=""):
    return ("From: Sender <news@example.com>\n"
            "To: reader@example.net\n"
            f"Subject: {subject}\n"
            "Date: Fri, 27 Nov 2026 08:00:00 +0000\n"
            f"Message-ID: <{subject.replace(' ', '-')}@example.com>\n"
            "MIME-Version: 1.0\n"
            f"Content-Type: {ctype}\n{extra}\n")


def page(title, body_text, links, style="table"):
    """An HTML newsletter of a given template style, as text."""
    items = []
    for i, u in enumerate(links):
        u = u.replace("&", "&amp;")
        if style == "table":
            items.append(f'<tr><td style="padding:8px"><a href="{u}" '
                         f'style="color:#0a5">{body_text} {i}</a></td></tr>')
        elif style == "mso":
            items.append('<!--[if mso]><v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" '
                         f'href="{u}" style="height:40px;v-text-anchor:middle;width:200px" '
                         'arcsize="10%" fillcolor="#0a5"><center>Go</center></v:roundrect>'
                         f'<![endif]--><!--[if !mso]><!--><a href="{u}" class="btn">{body_text} {i}</a>'
                         '<!--<![endif]-->')
        else:
            items.append(f"<p>{body_text} <a href='{u}'>{i}</a></p>")
    rows = "\n".join(items)
    if style == "table":
        rows = f'<table width="100%" cellpadding="0" cellspacing="0">\n{rows}\n</table>'
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"x\"><title>{title}</title>\n"
            "<style>a{color:#0a5} /* <a href=\"https://css.example/\"> */</style></head>\n"
            f"<body>\n<h1>{title}</h1>\n{rows}\n"
            "<p><a href=\"mailto:help@example.com\">help</a> "
            "<a href=\"{{unsubscribe}}\">unsubscribe</a></p>\n</body></html>\n")


LINKS = ["https://example.com/a?x=1&y=2", "http://shop.example.org/item/42",
         "https://example.com/reset?u=j%40x&t=(abc)", "https://example.net/p#top"]


def write(name, text, nl="\r\n"):
    data = text.replace("\r\n", "\n").replace("\n", nl).encode("latin-1") \
        if isinstance(text, str) else text
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def html_bytes(title, word, charset, style="table"):
    return page(title, word, LINKS, style).replace('charset="x"', f'charset="{charset}"').encode(charset)


def single(name, charset, cte, word, style="table", nl="\r\n"):
    body = html_bytes(name, word, charset, style)
    if cte == "base64":
        enc = b64(body)
    elif cte == "quoted-printable":
        enc = qp(body)
    else:
        enc = body.decode("latin-1")
    text = head(name, f"text/html; charset={charset}",
                f"Content-Transfer-Encoding: {cte}\n") + enc
    write(name + ".eml", text, nl)


def main():
    os.makedirs(OUT, exist_ok=True)
    # single parts: every transfer encoding, ASCII-compatible charsets
    single("utf8-qp", "utf-8", "quoted-printable", "Café — ünïcode")
    single("utf8-8bit", "utf-8", "8bit", "Café — ünïcode")
    single("utf8-base64", "utf-8", "base64", "Café — ünïcode", style="para")
    single("latin1-8bit", "iso-8859-1", "8bit", "Café déjà")
    single("latin15-qp", "iso-8859-15", "quoted-printable", "Prix en €")
    single("cp1252-base64", "windows-1252", "base64", "“Quoted” – dash")
    single("sjis-8bit", "shift_jis", "8bit", "こんにちは")
    single("eucjp-8bit", "euc-jp", "8bit", "ニュース")
    single("euckr-qp", "euc-kr", "quoted-printable", "안녕하세요")
    single("gb18030-base64", "gb18030", "base64", "新闻")
    single("big5-8bit", "big5", "8bit", "新聞")
    single("ascii-7bit", "us-ascii", "7bit", "Hello", style="mso")
    single("binary-lf", "utf-8", "binary", "Plain LF", nl="\n")
    # charsets that are not ASCII-compatible: converted, rewritten, converted back
    single("iso2022jp-7bit", "iso-2022-jp", "7bit", "こんにちは")
    single("utf16-base64", "utf-16", "base64", "Wide")
    # multipart/alternative with the text part first (the usual newsletter)
    h = html_bytes("alt", "Read", "utf-8", "mso")
    write("alternative.eml", head("alternative", 'multipart/alternative; boundary="=_a"') +
          "This is a multi-part message in MIME format.\n\n"
          "--=_a\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
          "Read https://example.com/a?x=1&y=2 now.\n\n"
          "--=_a\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
          + qp(h) + "\n--=_a--\n")
    # nested: mixed > alternative > related > html + inline image; an attached
    # HTML file, a forwarded message with links, a calendar, an AMP part
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
    inner = head("forwarded inner", "text/html; charset=us-ascii") + \
        '<a href="https://forwarded.example/">fwd</a>\n'
    write("nested.eml", head("nested", 'multipart/mixed; boundary="=_m"') +
          "--=_m\nContent-Type: multipart/alternative; boundary=\"=_alt\"\n\n"
          "--=_alt\nContent-Type: text/plain; charset=us-ascii\n\nSee https://example.com/a\n"
          "--=_alt\nContent-Type: text/x-amp-html; charset=utf-8\n\n"
          "<html amp4email><body><a href=\"https://amp.example/\">amp</a></body></html>\n"
          "--=_alt\nContent-Type: multipart/related; boundary=\"=_rel\"; type=\"text/html\"\n\n"
          "--=_rel\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
          + html_bytes("nested", "Café", "utf-8").decode("latin-1") +
          "\n--=_rel\nContent-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n\n"
          + b64(png) +
          "--=_rel--\n\n--=_alt--\n\n"
          "--=_m\nContent-Type: text/html; charset=us-ascii; name=\"page.html\"\n"
          "Content-Disposition: attachment; filename=\"page.html\"\n\n"
          "<a href=\"https://attached.example/\">attached</a>\n"
          "--=_m\nContent-Type: message/rfc822\n\n" + inner +
          "\n--=_m\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\n\n"
          "BEGIN:VCALENDAR\nURL:https://calendar.example/\nEND:VCALENDAR\n"
          "--=_m--\n")
    # pixel at the top, body without </body>, and a document cut short
    write("nobody.eml", head("nobody", "text/html; charset=utf-8") +
          "<p>No body tag: <a href=\"https://example.com/a\">a</a>\n")
    write("truncated.eml", head("truncated", "text/html; charset=utf-8") +
          "<p><a href=\"https://example.com/ok\">ok</a> <a href=\"https://example.com/cut")
    print("corpus written to", os.path.normpath(OUT))


if __name__ == "__main__":
    sys.exit(main())
