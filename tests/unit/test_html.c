/*
 * test_html - the link rewriter: table of cases, golden files
 * (tests/data/html/NAME.in.html -> NAME.out.html), robustness and scale.
 */
#include "unit.h"
#include "unit.inc"

#include <dirent.h>
#include <time.h>

#include "html.h"

/* ---- a callback that records what it is given ---- */

enum mode {
	M_TRACK,	/* rewrite to https://t/INDEX */
	M_ECHO,		/* rewrite to the URL itself */
	M_KEEP,		/* leave every link */
	M_FAIL,		/* fail on the second link */
	M_DETAIL,	/* rewrite, log "index tag in_mso url" */
	M_AMP		/* rewrite to a URL holding & and " */
};

struct rec {
	enum mode	 mode;
	struct buf	 log;	/* one line per call */
};

static int
rec_link(void *arg, const struct html_link *l, struct buf *repl)
{
	struct rec *r = arg;

	assert_int_equal(strlen(l->url), l->url_len);
	assert_int_equal(repl->len, 0);
	if (r->mode == M_DETAIL)
		assert_int_equal(buf_printf(&r->log, "%u %s %d %s\n", l->index,
		    l->tag, l->in_mso, l->url), 0);
	else
		assert_int_equal(buf_printf(&r->log, "%s\n", l->url), 0);
	switch (r->mode) {
	case M_KEEP:
		return 0;
	case M_FAIL:
		if (l->index == 1)
			return -1;
		break;
	case M_ECHO:
		assert_int_equal(buf_append(repl, l->url, l->url_len), 0);
		return 1;
	case M_AMP:
		assert_int_equal(buf_puts(repl, "https://t/?a=1&b=\"2\"<"), 0);
		return 1;
	default:
		break;
	}
	assert_int_equal(buf_printf(repl, "https://t/%u", l->index), 0);
	return 1;
}

/* run - rewrite in; the output, its length in *outlen, calls in r->log */
static char *
run(const char *in, size_t len, const struct html_opts *tmpl, struct rec *r,
    struct html_result *res, int *rc, size_t *outlen)
{
	struct html_opts	 o = *tmpl;
	struct buf		 out = BUF_INIT;

	o.link_fn = rec_link;
	o.arg = r;
	*rc = html_rewrite(in, len, &o, &out, res);
	return buf_steal(&out, outlen);
}

/* ---- the table ---- */

struct rw_case {
	const char	*name;
	const char	*in;
	const char	*out;	/* NULL: identical to in */
	const char	*urls;	/* what the callback got, one per line */
	enum mode	 mode;
};

#define SAME	NULL

static const struct rw_case cases[] = {
	/* attribute syntax */
	{ "double quoted", "<p><a href=\"https://e.example/x\">x</a></p>",
	  "<p><a href=\"https://t/0\">x</a></p>", "https://e.example/x\n", M_TRACK },
	{ "single quoted", "<a href='https://e.example/x' class=c>x</a>",
	  "<a href=\"https://t/0\" class=c>x</a>", "https://e.example/x\n", M_TRACK },
	{ "unquoted", "<a href=https://e.example/a?b=c>x</a>",
	  "<a href=\"https://t/0\">x</a>", "https://e.example/a?b=c\n", M_TRACK },
	{ "unquoted before />", "<a href=https://e.example/ />",
	  "<a href=\"https://t/0\" />", "https://e.example/\n", M_TRACK },
	{ "unquoted value takes the slash", "<a href=https://e.example/x/>",
	  "<a href=\"https://t/0\">", "https://e.example/x/\n", M_TRACK },
	{ "upper case", "<A HREF=\"HTTPS://E.example/X\">x</A>",
	  "<A HREF=\"https://t/0\">x</A>", "HTTPS://E.example/X\n", M_TRACK },
	{ "mixed case scheme", "<a hReF='hTtP://e.example/'>",
	  "<a hReF=\"https://t/0\">", "hTtP://e.example/\n", M_TRACK },
	{ "spaces around =", "<a class=x href = \"https://e.example/\" >",
	  "<a class=x href = \"https://t/0\" >", "https://e.example/\n", M_TRACK },
	{ "no space between attributes", "<a id=\"i\"href=\"https://e.example/\">",
	  "<a id=\"i\"href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "slash separates", "<a/href=\"https://e.example/\">",
	  "<a/href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "newlines in the tag", "<a\n\thref\n=\n'https://e.example/'\n>",
	  "<a\n\thref\n=\n\"https://t/0\"\n>", "https://e.example/\n", M_TRACK },
	{ "duplicate href: the first wins",
	  "<a href=\"https://first.example/\" HREF=\"https://second.example/\">",
	  "<a href=\"https://t/0\" HREF=\"https://second.example/\">",
	  "https://first.example/\n", M_TRACK },
	{ "href after a duplicate other attribute",
	  "<a class=a class=b href=https://e.example/>",
	  "<a class=a class=b href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "area", "<map><area shape=rect href=\"https://e.example/m\"></map>",
	  "<map><area shape=rect href=\"https://t/0\"></map>",
	  "https://e.example/m\n", M_TRACK },
	{ "several links in order",
	  "<a href=https://a.example/>1</a><a href=https://b.example/>2</a>",
	  "<a href=\"https://t/0\">1</a><a href=\"https://t/1\">2</a>",
	  "https://a.example/\nhttps://b.example/\n", M_TRACK },
	{ "@ and parentheses",
	  "<a href=\"https://e.example/@joe/(x)?m=a@b.example&amp;p=(1)\">",
	  "<a href=\"https://t/0\">",
	  "https://e.example/@joe/(x)?m=a@b.example&p=(1)\n", M_TRACK },
	{ "whitespace stripped, tab cr lf removed",
	  "<a href=\"  https://e.example/a\n/b\t?c=d\r\n \">",
	  "<a href=\"https://t/0\">", "https://e.example/a/b?c=d\n", M_TRACK },
	{ "attribute named like href", "<a data-href=\"https://e.example/\">", SAME, "", M_TRACK },
	{ "a tag with a longer name", "<abbr href=\"https://e.example/\">", SAME, "", M_TRACK },

	/* character references */
	{ "password reset &amp;", "<a href=\"https://x/reset?a=1&amp;b=2\">r</a>",
	  "<a href=\"https://t/0\">r</a>", "https://x/reset?a=1&b=2\n", M_TRACK },
	{ "&amp; escaped back", "<a href=\"https://x/reset?a=1&amp;b=2\">r</a>",
	  "<a href=\"https://x/reset?a=1&amp;b=2\">r</a>",
	  "https://x/reset?a=1&b=2\n", M_ECHO },
	{ "replacement escaping", "<a href=https://e.example/>",
	  "<a href=\"https://t/?a=1&amp;b=&quot;2&quot;<\">", "https://e.example/\n",
	  M_AMP },
	{ "legacy name before = stays",
	  "<a href=\"https://e.example/?a=1&copy=2&not=3&lt=4\">",
	  "<a href=\"https://t/0\">", "https://e.example/?a=1&copy=2&not=3&lt=4\n", M_TRACK },
	{ "legacy name before alnum stays",
	  "<a href=\"https://e.example/?x&copyright\">",
	  "<a href=\"https://t/0\">", "https://e.example/?x&copyright\n", M_TRACK },
	{ "legacy name before other decoded",
	  "<a href=\"https://e.example/?x&copy-&amp\">",
	  "<a href=\"https://t/0\">", "https://e.example/?x\xC2\xA9-&\n", M_TRACK },
	{ "named with ; decoded", "<a href='https://e.example/&sol;&quot;&NotEqualTilde;'>",
	  "<a href=\"https://t/0\">", "https://e.example//\"\xE2\x89\x82\xCC\xB8\n", M_TRACK },
	{ "unknown name stays", "<a href='https://e.example/?a&foo;&'>",
	  "<a href=\"https://t/0\">", "https://e.example/?a&foo;&\n", M_TRACK },
	{ "numeric references",
	  "<a href='https://e.example/&#47;&#x2F;&#X41&#128512;&#x80;&#x9d;'>",
	  "<a href=\"https://t/0\">",
	  "https://e.example///A\xF0\x9F\x98\x80\xE2\x82\xAC\xC2\x9D\n", M_TRACK },
	{ "numeric replacements",
	  "<a href='https://e.example/&#0;&#xD800;&#x110000;&#99999999999;'>",
	  "<a href=\"https://t/0\">",
	  "https://e.example/\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\n", M_TRACK },
	{ "no digits", "<a href='https://e.example/&#;&#x;'>",
	  "<a href=\"https://t/0\">", "https://e.example/&#;&#x;\n", M_TRACK },
	{ "encoded scheme", "<a href=\"&#104;ttps://e.example/\">",
	  "<a href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "encoded javascript", "<a href=\"&#106;avascript:alert(1)\">", SAME, "", M_TRACK },

	/* not given to the callback */
	{ "mailto", "<a href=\"mailto:a@b.example\">", SAME, "", M_TRACK },
	{ "tel", "<a href=\"tel:+123\">", SAME, "", M_TRACK },
	{ "sms", "<a href=\"sms:+123\">", SAME, "", M_TRACK },
	{ "javascript", "<a href=\"JavaScript:void(0)\">", SAME, "", M_TRACK },
	{ "javascript split by a newline", "<a href=\"java\nscript:x()\">", SAME, "", M_TRACK },
	{ "data", "<a href=\"data:text/html,<b>x</b>\">", SAME, "", M_TRACK },
	{ "ftp", "<a href=\"ftp://e.example/\">", SAME, "", M_TRACK },
	{ "http without //", "<a href=\"http:e.example\">", SAME, "", M_TRACK },
	{ "fragment", "<a href=\"#top\">", SAME, "", M_TRACK },
	{ "empty", "<a href=\"\"><a href=''><a href=   ><a href>", SAME, "", M_TRACK },
	{ "only spaces", "<a href=\" \n \">", SAME, "", M_TRACK },
	{ "relative without base", "<a href=\"/p\"><a href=\"p.html\"><a href=\"//e.example/\">",
	  SAME, "", M_TRACK },
	{ "space inside", "<a href=\"https://e.example/a b\">", SAME, "", M_TRACK },
	{ "encoded space", "<a href=\"https://e.example/a&#32;b\">", SAME, "", M_TRACK },
	{ "control character", "<a href=\"https://e.example/a&#1;b\">", SAME, "", M_TRACK },
	{ "form feed", "<a href=\"https://e.example/a\fb\">", SAME, "", M_TRACK },
	{ "DEL", "<a href=\"https://e.example/a\x7f\">", SAME, "", M_TRACK },
	{ "placeholder {{}}", "<a href=\"{{ unsubscribe_url }}\">", SAME, "", M_TRACK },
	{ "placeholder {{}} in query", "<a href=\"https://e.example/?u={{id}}\">",
	  SAME, "", M_TRACK },
	{ "placeholder *||*", "<a href=\"*|ARCHIVE|*\"><a href=\"https://e.example/*|ID|*\">",
	  SAME, "", M_TRACK },
	{ "placeholder %%%%", "<a href=\"https://e.example/%%view_url%%\">", SAME, "", M_TRACK },
	{ "placeholder [[]]", "<a href=\"https://e.example/[[unsub]]\">", SAME, "", M_TRACK },
	{ "placeholder <%%>", "<a href=\"<%= link %>\">", SAME, "", M_TRACK },
	{ "placeholder encoded", "<a href=\"https://e.example/&lt;%=x%&gt;\">", SAME, "", M_TRACK },
	{ "half a placeholder is a URL", "<a href=\"https://e.example/{{x\">",
	  "<a href=\"https://t/0\">", "https://e.example/{{x\n", M_TRACK },
	{ "percent escapes are a URL", "<a href=\"https://e.example/%20%41\">",
	  "<a href=\"https://t/0\">", "https://e.example/%20%41\n", M_TRACK },

	/* tags that are not links */
	{ "img, link, base, form",
	  "<img src=\"https://e.example/i.png\"><link rel=stylesheet href=\"https://e.example/s.css\">"
	  "<form action=\"https://e.example/f\"><input src=\"https://e.example/b\"></form>"
	  "<div href=\"https://e.example/\"></div>", SAME, "", M_TRACK },
	{ "vml outside a conditional comment",
	  "<v:roundrect href=\"https://e.example/\"></v:roundrect>", SAME, "", M_TRACK },
	{ "end tag attributes", "</a href=\"https://e.example/\">", SAME, "", M_TRACK },
	{ "a with a NUL-free junk name", "<a\x01 href=\"https://e.example/\">", SAME, "", M_TRACK },

	/* raw text, comments */
	{ "script", "<script>var s = '<a href=\"https://e.example/s\">';</script>"
	  "<a href=\"https://e.example/after\">",
	  "<script>var s = '<a href=\"https://e.example/s\">';</script>"
	  "<a href=\"https://t/0\">", "https://e.example/after\n", M_TRACK },
	{ "script end tag variants",
	  "<SCRIPT>a</scriptx><a href=https://e.example/1></SCRIPT ><a href=https://e.example/2>",
	  "<SCRIPT>a</scriptx><a href=https://e.example/1></SCRIPT ><a href=\"https://t/0\">",
	  "https://e.example/2\n", M_TRACK },
	{ "script end tag with attributes",
	  "<script></script foo=\"a>b\"><a href=https://e.example/>",
	  "<script></script foo=\"a>b\"><a href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "script double escaped",
	  "<script><!--<script></script><a href=https://e.example/in></script>"
	  "<a href=https://e.example/out>",
	  "<script><!--<script></script><a href=https://e.example/in></script>"
	  "<a href=\"https://t/0\">", "https://e.example/out\n", M_TRACK },
	{ "script escaped ends at </script>",
	  "<script><!-- x </script><a href=https://e.example/>",
	  "<script><!-- x </script><a href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "script escape closed by -->",
	  "<script><!-- x --><script></script><a href=https://e.example/>",
	  "<script><!-- x --><script></script><a href=\"https://t/0\">",
	  "https://e.example/\n", M_TRACK },
	{ "unterminated script", "<script><a href=https://e.example/>", SAME, "", M_TRACK },
	{ "style", "<style>a[href=x]{} /* <a href=\"https://e.example/\"> */</style>"
	  "<a href=https://e.example/b>",
	  "<style>a[href=x]{} /* <a href=\"https://e.example/\"> */</style>"
	  "<a href=\"https://t/0\">", "https://e.example/b\n", M_TRACK },
	{ "style is not ended by </styles>",
	  "<style></styles><a href=https://e.example/></style >",
	  SAME, "", M_TRACK },
	{ "title and textarea are RCDATA",
	  "<title><a href=https://e.example/1></title>"
	  "<textarea><a href=https://e.example/2></TEXTAREA/>", SAME, "", M_TRACK },
	{ "xmp iframe noembed noframes",
	  "<xmp><a href=https://e.example/1></xmp><iframe><a href=https://e.example/2></iframe>"
	  "<noembed><a href=https://e.example/3></noembed>"
	  "<noframes><a href=https://e.example/4></noframes>"
	  "<a href=https://e.example/5>",
	  "<xmp><a href=https://e.example/1></xmp><iframe><a href=https://e.example/2></iframe>"
	  "<noembed><a href=https://e.example/3></noembed>"
	  "<noframes><a href=https://e.example/4></noframes>"
	  "<a href=\"https://t/0\">", "https://e.example/5\n", M_TRACK },
	{ "plaintext", "<plaintext><a href=https://e.example/></plaintext><a href=https://e.example/>",
	  SAME, "", M_TRACK },
	{ "comment", "<!-- <a href=\"https://e.example/\"> -->", SAME, "", M_TRACK },
	{ "comment ends at the first -->",
	  "<!-- x --><a href=https://e.example/ok>",
	  "<!-- x --><a href=\"https://t/0\">", "https://e.example/ok\n", M_TRACK },
	{ "short comments",
	  "<!--><a href=https://e.example/1><!---><a href=https://e.example/2>"
	  "<!----><a href=https://e.example/3>",
	  "<!--><a href=\"https://t/0\"><!---><a href=\"https://t/1\">"
	  "<!----><a href=\"https://t/2\">",
	  "https://e.example/1\nhttps://e.example/2\nhttps://e.example/3\n", M_TRACK },
	{ "comment ended by --!>", "<!-- a --!><a href=https://e.example/>",
	  "<!-- a --!><a href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "comment not ended by -- >", "<!-- a -- ><a href=https://e.example/>", SAME, "", M_TRACK },
	{ "comment not ended by ->", "<!-- a -><a href=https://e.example/>", SAME, "", M_TRACK },
	{ "unterminated comment", "<!-- <a href=https://e.example/>", SAME, "", M_TRACK },
	{ "bogus comments",
	  "<?xml <a href=https://e.example/1>?>"
	  "</ <a href=https://e.example/2>"
	  "<!x <a href=https://e.example/3>"
	  "<![CDATA[ <a href=https://e.example/4> ]]>"
	  "<a href=https://e.example/5>",
	  "<?xml <a href=https://e.example/1>?>"
	  "</ <a href=https://e.example/2>"
	  "<!x <a href=https://e.example/3>"
	  "<![CDATA[ <a href=https://e.example/4> ]]>"
	  "<a href=\"https://t/0\">", "https://e.example/5\n", M_TRACK },
	{ "doctype", "<!DOCTYPE html PUBLIC \"a>b\"><a href=https://e.example/>",
	  "<!DOCTYPE html PUBLIC \"a>b\"><a href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "stray <", "a < b <<a href=https://e.example/>< /a><>",
	  "a < b <<a href=\"https://t/0\">< /a><>", "https://e.example/\n", M_TRACK },
	{ "quote in a name", "<a x\"=y href=https://e.example/>",
	  "<a x\"=y href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "= starts a name", "<a =href=https://e.example/>", SAME, "", M_TRACK },
	{ "> in a quoted value", "<a title=\"a>b\" href=https://e.example/>",
	  "<a title=\"a>b\" href=\"https://t/0\">", "https://e.example/\n", M_TRACK },

	/* truncated input */
	{ "cut in a quoted value", "<a href=\"https://e.example/x", SAME, "", M_TRACK },
	{ "cut in an unquoted value", "<a href=https://e.example/x", SAME, "", M_TRACK },
	{ "cut after the value", "<a href=\"https://e.example/x\" ", SAME, "", M_TRACK },
	{ "cut after a good link",
	  "<a href=\"https://e.example/ok\">x</a><a href='https://e.example/cut",
	  "<a href=\"https://t/0\">x</a><a href='https://e.example/cut",
	  "https://e.example/ok\n", M_TRACK },
	{ "cut in the tag name", "<a", SAME, "", M_TRACK },
	{ "lone <", "<", SAME, "", M_TRACK },
	{ "cut end tag", "</", SAME, "", M_TRACK },

	/* Outlook conditional comments */
	{ "mso vml button",
	  "<!--[if mso]><v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" "
	  "href=\"https://e.example/btn?a=1&amp;b=2\" style=\"height:40px\" arcsize=\"10%\">"
	  "<w:anchorlock/><center>Go</center></v:roundrect><![endif]-->",
	  "<!--[if mso]><v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" "
	  "href=\"https://t/0\" style=\"height:40px\" arcsize=\"10%\">"
	  "<w:anchorlock/><center>Go</center></v:roundrect><![endif]-->",
	  "0 v:roundrect 1 https://e.example/btn?a=1&b=2\n", M_DETAIL },
	{ "mso conditions",
	  "<!--[if gte mso 9]><v:rect href=https://e.example/1><![endif]-->"
	  "<!--[if (mso)|(IE)]><V:Oval HREF=https://e.example/2><![endif]-->"
	  "<!--[IF MSO 12]><v:shape href=https://e.example/3><![endif]-->",
	  "<!--[if gte mso 9]><v:rect href=\"https://t/0\"><![endif]-->"
	  "<!--[if (mso)|(IE)]><V:Oval HREF=\"https://t/1\"><![endif]-->"
	  "<!--[IF MSO 12]><v:shape href=\"https://t/2\"><![endif]-->",
	  "0 v:rect 1 https://e.example/1\n1 v:oval 1 https://e.example/2\n"
	  "2 v:shape 1 https://e.example/3\n", M_DETAIL },
	{ "a inside mso, a outside",
	  "<a href=https://e.example/0><!--[if mso]><table><tr><td><a href=https://e.example/1>"
	  "</td></tr></table><![endif]-->",
	  "<a href=\"https://t/0\"><!--[if mso]><table><tr><td><a href=\"https://t/1\">"
	  "</td></tr></table><![endif]-->",
	  "0 a 0 https://e.example/0\n1 a 1 https://e.example/1\n", M_DETAIL },
	{ "conditional comment without mso",
	  "<!--[if IE]><v:rect href=https://e.example/1><a href=https://e.example/2><![endif]-->",
	  SAME, "", M_TRACK },
	{ "mso comment is not mso content", "<!-- mso <v:rect href=https://e.example/> -->",
	  SAME, "", M_TRACK },
	{ "unterminated mso comment",
	  "<!--[if mso]><v:rect href=https://e.example/1><![endif]", SAME, "", M_TRACK },
	{ "mso tag cut by the comment end",
	  "<!--[if mso]><v:rect href=\"https://e.example/1--><a href=https://e.example/2>",
	  "<!--[if mso]><v:rect href=\"https://e.example/1--><a href=\"https://t/0\">",
	  "0 a 0 https://e.example/2\n", M_DETAIL },
	{ "mso content has raw text",
	  "<!--[if mso]><style><a href=https://e.example/1></style>"
	  "<v:rect href=https://e.example/2><![endif]-->",
	  "<!--[if mso]><style><a href=https://e.example/1></style>"
	  "<v:rect href=\"https://t/0\"><![endif]-->",
	  "0 v:rect 1 https://e.example/2\n", M_DETAIL },
	{ "downlevel-revealed",
	  "<!--[if !mso]><!--><a href=https://e.example/1><!--<![endif]-->",
	  "<!--[if !mso]><!--><a href=\"https://t/0\"><!--<![endif]-->",
	  "0 a 0 https://e.example/1\n", M_DETAIL },
	{ "vml and opt-out in mso",
	  "<!--[if mso]><v:roundrect href=https://e.example/ data-mtrack=off><![endif]-->",
	  "<!--[if mso]><v:roundrect href=https://e.example/><![endif]-->", "", M_TRACK },

	/* opt-out markers */
	{ "data-mtrack=off", "<a href=\"https://e.example/\" data-mtrack=\"off\">x</a>",
	  "<a href=\"https://e.example/\">x</a>", "", M_TRACK },
	{ "data-mtrack=OFF first", "<a data-mtrack='OFF' href=\"https://e.example/\">",
	  "<a href=\"https://e.example/\">", "", M_TRACK },
	{ "data-mtrack=on is no opt-out", "<a data-mtrack=on href=\"https://e.example/\">",
	  "<a data-mtrack=on href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "clicktracking=off", "<a clicktracking=off href=\"https://e.example/\">",
	  "<a href=\"https://e.example/\">", "", M_TRACK },
	{ "data-pm-no-track", "<a href=\"https://e.example/\" data-pm-no-track>x</a>",
	  "<a href=\"https://e.example/\">x</a>", "", M_TRACK },
	{ "data-pm-no-track with a value",
	  "<a href=\"https://e.example/\" data-pm-no-track=\"\" class=b>",
	  "<a href=\"https://e.example/\" class=b>", "", M_TRACK },
	{ "ses:no-track", "<a ses:no-track href=\"https://e.example/\">",
	  "<a href=\"https://e.example/\">", "", M_TRACK },
	{ "disable-tracking=true after a newline",
	  "<a href=\"https://e.example/\"\n   disable-tracking=true>",
	  "<a href=\"https://e.example/\">", "", M_TRACK },
	{ "disable-tracking=false", "<a href=\"https://e.example/\" disable-tracking=false>",
	  "<a href=\"https://t/0\" disable-tracking=false>", "https://e.example/\n", M_TRACK },
	{ "data-msys-clicktrack=0", "<a data-msys-clicktrack=\"0\" href=\"https://e.example/\">",
	  "<a href=\"https://e.example/\">", "", M_TRACK },
	{ "data-msys-clicktrack=1", "<a data-msys-clicktrack=\"1\" href=\"https://e.example/\">",
	  "<a data-msys-clicktrack=\"1\" href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "two markers", "<a data-pm-no-track ses:no-track='' href=https://e.example/ />",
	  "<a href=https://e.example/ />", "", M_TRACK },
	{ "marker without whitespace before",
	  "<a href=\"https://e.example/\"data-pm-no-track>",
	  "<a href=\"https://e.example/\">", "", M_TRACK },
	{ "marker on a mailto link", "<a href=\"mailto:a@b\" data-mtrack=\"off\">",
	  "<a href=\"mailto:a@b\">", "", M_TRACK },
	{ "marker on another tag stays", "<p data-mtrack=\"off\"><a href=https://e.example/>",
	  "<p data-mtrack=\"off\"><a href=\"https://t/0\">", "https://e.example/\n", M_TRACK },
	{ "duplicate marker does not count",
	  "<a data-mtrack=on data-mtrack=off href=https://e.example/>",
	  "<a data-mtrack=on data-mtrack=off href=\"https://t/0\">", "https://e.example/\n", M_TRACK },

	/* <base href> */
	{ "base resolves relative links",
	  "<head><base href=\"https://b.example/dir/page.html?q#f\"></head>"
	  "<a href=\"sub/x.html\"><a href=\"../up\"><a href=\"/abs\"><a href=\"?only\">"
	  "<a href=\"//o.example/p\"><a href=\"#frag\"><a href=\"\">",
	  "<head><base href=\"https://b.example/dir/page.html?q#f\"></head>"
	  "<a href=\"https://t/0\"><a href=\"https://t/1\"><a href=\"https://t/2\">"
	  "<a href=\"https://t/3\"><a href=\"https://t/4\"><a href=\"#frag\"><a href=\"\">",
	  "https://b.example/dir/sub/x.html\nhttps://b.example/up\nhttps://b.example/abs\n"
	  "https://b.example/dir/page.html?only\nhttps://o.example/p\n", M_TRACK },
	{ "base applies to links before it",
	  "<a href=x><base href=\"http://b.example\"><a href=y>",
	  "<a href=\"https://t/0\"><base href=\"http://b.example\"><a href=\"https://t/1\">",
	  "http://b.example/x\nhttp://b.example/y\n", M_TRACK },
	{ "only the first base counts",
	  "<base target=_blank><base href=\"mailto:x\"><base href=\"https://b.example/\">"
	  "<a href=x>", SAME, "", M_TRACK },
	{ "base in a comment or in mso does not count",
	  "<!-- <base href=\"https://c.example/\"> -->"
	  "<!--[if mso]><base href=\"https://m.example/\"><![endif]-->"
	  "<base href=\" https://b.example/d/ \"><a href=x>",
	  "<!-- <base href=\"https://c.example/\"> -->"
	  "<!--[if mso]><base href=\"https://m.example/\"><![endif]-->"
	  "<base href=\" https://b.example/d/ \"><a href=\"https://t/0\">",
	  "https://b.example/d/x\n", M_TRACK },
	{ "relative base is ignored", "<base href=\"/d/\"><a href=x>", SAME, "", M_TRACK },
	{ "base does not make other schemes trackable",
	  "<base href=\"https://b.example/\"><a href=\"mailto:x\"><a href=\"tel:1\">",
	  SAME, "", M_TRACK },
	{ "absolute links ignore base",
	  "<base href=\"https://b.example/\"><a href=\"http://e.example/\">",
	  "<base href=\"https://b.example/\"><a href=\"https://t/0\">",
	  "http://e.example/\n", M_TRACK },
	{ "base without a path", "<base href=\"https://b.example\"><a href=\"x?y\">",
	  "<base href=\"https://b.example\"><a href=\"https://t/0\">",
	  "https://b.example/x?y\n", M_TRACK },
	{ "base after absolute links, before relative ones",
	  "<a href=\"https://e.example/\"><BASE HREF=\"https://b.example/d/\">"
	  "<a href=x><base href=\"https://c.example/\"><a href=y>",
	  "<a href=\"https://t/0\"><BASE HREF=\"https://b.example/d/\">"
	  "<a href=\"https://t/1\"><base href=\"https://c.example/\"><a href=\"https://t/2\">",
	  "https://e.example/\nhttps://b.example/d/x\nhttps://b.example/d/y\n", M_TRACK },
	{ "base after a relative link, behind one without href",
	  "<a href=x><base target=_top><a href=y><base href=\"https://b.example/\">"
	  "<a href=z>",
	  "<a href=\"https://t/0\"><base target=_top><a href=\"https://t/1\">"
	  "<base href=\"https://b.example/\"><a href=\"https://t/2\">",
	  "https://b.example/x\nhttps://b.example/y\nhttps://b.example/z\n", M_TRACK },
	/* WHATWG URL, as browsers resolve: backslashes, tabs, newlines */
	{ "base: backslashes are slashes before the query",
	  "<base href=\"https://b.example/dir/page.html?q\">"
	  "<a href=\"\\\\evil.example\\bs\"><a href=\"/\\evil.example/sbs\">"
	  "<a href=\"\\sub\\x.html\"><a href=\"sub\\x?a\\b#c\\d\">"
	  "<a href=\"..\\..\\up\"><a href=\"///e.example/x\">",
	  "<base href=\"https://b.example/dir/page.html?q\">"
	  "<a href=\"https://t/0\"><a href=\"https://t/1\">"
	  "<a href=\"https://t/2\"><a href=\"https://t/3\">"
	  "<a href=\"https://t/4\"><a href=\"https://t/5\">",
	  "https://evil.example/bs\nhttps://evil.example/sbs\n"
	  "https://b.example/sub/x.html\nhttps://b.example/dir/sub/x?a\\b#c\\d\n"
	  "https://b.example/up\nhttps://e.example/x\n", M_TRACK },
	{ "base: tabs and newlines are removed, in the base too",
	  "<base href=\"https:\\\\b.exa\tmple\\d\\\"><a href=\" \t/p\n/q\r\">"
	  "<a href=\"x\ny\">",
	  "<base href=\"https:\\\\b.exa\tmple\\d\\\"><a href=\"https://t/0\">"
	  "<a href=\"https://t/1\">",
	  "https://b.example/p/q\nhttps://b.example/d/xy\n", M_TRACK },
	{ "base: what a browser reads otherwise stays as written",
	  "<base href=\"https://b.example/d/\"><a href=\"//\"><a href=\"\\\\\\?x\">"
	  "<a href=\"a/%2E%2e/b\"><a href=\"%2e./c\">",
	  SAME, "", M_TRACK },
	{ "an invalid first base leaves relative links alone",
	  "<a href=\"https://e.example/\"><base href=\"ftp://f.example/\">"
	  "<base href=\"https://b.example/\"><a href=x>",
	  "<a href=\"https://t/0\"><base href=\"ftp://f.example/\">"
	  "<base href=\"https://b.example/\"><a href=x>",
	  "https://e.example/\n", M_TRACK },
};

static void
test_cases(void **state)
{
	const struct html_opts	 none = { 0 };
	struct html_result	 res;
	struct rec		 r;
	size_t			 i, n;
	char			*out;
	int			 rc, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rw_case	*c = &cases[i];
		const char		*want = c->out ? c->out : c->in;

		memset(&r, 0, sizeof(r));
		r.mode = c->mode;
		out = run(c->in, strlen(c->in), &none, &r, &res, &rc, &n);
		if (rc != 0 || n != strlen(want) || strcmp(out, want) ||
		    strcmp(r.log.data ? r.log.data : "", c->urls)) {
			print_message("case \"%s\": rc %d\n  got:  %s\n  want: %s\n"
			    "  urls: %s  want: %s\n", c->name, rc, out, want,
			    r.log.data ? r.log.data : "", c->urls);
			bad++;
		}
		free(out);
		buf_free(&r.log);
	}
	assert_int_equal(bad, 0);
}

/* RFC 3986 section 5.4, the examples with an http result */
static void
test_rfc3986(void **state)
{
	static const char *const ex[][2] = {
		{ "g", "http://a/b/c/g" }, { "./g", "http://a/b/c/g" },
		{ "g/", "http://a/b/c/g/" }, { "/g", "http://a/g" },
		{ "//g", "http://g" }, { "?y", "http://a/b/c/d;p?y" },
		{ "g?y", "http://a/b/c/g?y" }, { "g#s", "http://a/b/c/g#s" },
		{ "g?y#s", "http://a/b/c/g?y#s" }, { ";x", "http://a/b/c/;x" },
		{ "g;x", "http://a/b/c/g;x" }, { "g;x?y#s", "http://a/b/c/g;x?y#s" },
		{ ".", "http://a/b/c/" }, { "./", "http://a/b/c/" },
		{ "..", "http://a/b/" }, { "../", "http://a/b/" },
		{ "../g", "http://a/b/g" }, { "../..", "http://a/" },
		{ "../../", "http://a/" }, { "../../g", "http://a/g" },
		{ "../../../g", "http://a/g" }, { "../../../../g", "http://a/g" },
		{ "/./g", "http://a/g" }, { "/../g", "http://a/g" },
		{ "g.", "http://a/b/c/g." }, { ".g", "http://a/b/c/.g" },
		{ "g..", "http://a/b/c/g.." }, { "..g", "http://a/b/c/..g" },
		{ "./../g", "http://a/b/g" }, { "./g/.", "http://a/b/c/g/" },
		{ "g/./h", "http://a/b/c/g/h" }, { "g/../h", "http://a/b/c/h" },
		{ "g;x=1/./y", "http://a/b/c/g;x=1/y" },
		{ "g;x=1/../y", "http://a/b/c/y" },
		{ "g?y/./x", "http://a/b/c/g?y/./x" },
		{ "g?y/../x", "http://a/b/c/g?y/../x" },
		{ "g#s/./x", "http://a/b/c/g#s/./x" },
		{ "g#s/../x", "http://a/b/c/g#s/../x" },
		/* and a few more */
		{ "//h.example/a/../b?q", "http://h.example/b?q" },
		{ "/a/b/../../../..", "http://a/" },
		{ "a//b/./c", "http://a/b/c/a//b/c" },
	};
	const struct html_opts	 none = { 0 };
	struct buf		 in = BUF_INIT, want = BUF_INIT;
	struct html_result	 res;
	struct rec		 r;
	size_t			 i, n;
	char			*out;
	int			 rc;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.mode = M_KEEP;
	assert_int_equal(buf_puts(&in, "<base href=\"http://a/b/c/d;p?q\">"), 0);
	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		assert_int_equal(buf_printf(&in, "<a href=\"%s\">", ex[i][0]), 0);
		assert_int_equal(buf_printf(&want, "%s\n", ex[i][1]), 0);
	}
	/* not given: another scheme, a fragment, the empty reference */
	assert_int_equal(buf_puts(&in, "<a href=\"g:h\"><a href=\"#s\"><a href=\"\">"), 0);
	out = run(in.data, in.len, &none, &r, &res, &rc, &n);
	assert_int_equal(rc, 0);
	assert_string_equal(r.log.data, want.data);
	assert_int_equal(res.links_seen, i);
	assert_int_equal(res.links_rewritten, 0);
	assert_memory_equal(out, in.data, in.len);
	free(out);
	buf_free(&in);
	buf_free(&want);
	buf_free(&r.log);
}

/* ---- pixel ---- */

struct px_case {
	const char	*name;
	int		 top;
	const char	*in;
	const char	*out;
};

static const struct px_case px_cases[] = {
	{ "before </body>", 0, "<html><body>x</body></html>",
	  "<html><body>x[P]</body></html>" },
	{ "before the last </body>", 0, "<body>a</body>b</BODY >c",
	  "<body>a</body>b[P]</BODY >c" },
	{ "</body> in a comment after it", 0,
	  "<body>a</body><!-- </body> --></html>\n",
	  "<body>a[P]</body><!-- </body> --></html>\n" },
	{ "</body> in raw text and mso", 0,
	  "<body>a</body><script>'</body>'</script><!--[if mso]></body><![endif]-->",
	  "<body>a[P]</body><script>'</body>'</script><!--[if mso]></body><![endif]-->" },
	{ "no </body>: at the end", 0, "<p>x</p>", "<p>x</p>[P]" },
	{ "cut </body>: before it", 0, "<p>x</p></body", "<p>x</p>[P]</body" },
	/* never inside what the end cuts: no element, or one made of a tag */
	{ "cut in a value", 0, "<p><a href=\"https://x.example/cut",
	  "<p>[P]<a href=\"https://x.example/cut" },
	{ "cut in a tag", 0, "<p>x<br", "<p>x[P]<br" },
	{ "cut after an attribute", 0, "<p>x<img src=a ", "<p>x[P]<img src=a " },
	{ "cut in a comment", 0, "<p>x<!-- c -", "<p>x[P]<!-- c -" },
	{ "cut in a bogus comment", 0, "<p>x<?php", "<p>x[P]<?php" },
	{ "cut in a doctype", 0, "<!doctype html", "[P]<!doctype html" },
	{ "cut \"</\"", 0, "<p>x</", "<p>x[P]</" },
	{ "unclosed raw text", 0, "<p>x<textarea>t</p>", "<p>x[P]<textarea>t</p>" },
	{ "unclosed script", 0, "<p>x<script>a<b", "<p>x[P]<script>a<b" },
	{ "closed raw text: after it", 0, "<style>a</style>", "<style>a</style>[P]" },
	{ "a lone '<' is text", 0, "<p>a <", "<p>a <[P]" },
	{ "empty document", 0, "", "[P]" },
	{ "top: after <body>", 1, "<html><head></head><BODY class=\"b\">x</body>",
	  "<html><head></head><BODY class=\"b\">[P]x</body>" },
	{ "top: the first <body>", 1, "<!-- <body> --><body><body>",
	  "<!-- <body> --><body>[P]<body>" },
	{ "top: after </head>", 1, "<!DOCTYPE html><html><head><title>t</title></head><p>x",
	  "<!DOCTYPE html><html><head><title>t</title></head>[P]<p>x" },
	{ "top: after <html>", 1, "<!DOCTYPE html><html lang=en><p>x",
	  "<!DOCTYPE html><html lang=en>[P]<p>x" },
	{ "top: after the doctype", 1, "<!doctype html>\n<p>x", "<!doctype html>[P]\n<p>x" },
	{ "top: at the start", 1, "<p>x</p>", "[P]<p>x</p>" },
	{ "top: after a BOM", 1, "\xEF\xBB\xBF<p>x</p>", "\xEF\xBB\xBF[P]<p>x</p>" },
	{ "top: <body> in a title", 1, "<title><body></title><p>", "[P]<title><body></title><p>" },
};

static void
test_pixel(void **state)
{
	struct html_opts	 o = { 0 };
	struct html_result	 res;
	struct rec		 r;
	size_t			 i, n;
	char			*out;
	int			 rc, bad = 0;

	(void)state;
	o.pixel = "[P]";
	o.pixel_len = 3;
	for (i = 0; i < sizeof(px_cases) / sizeof(px_cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		o.pixel_top = px_cases[i].top;
		out = run(px_cases[i].in, strlen(px_cases[i].in), &o, &r, &res, &rc, &n);
		if (rc != 0 || strcmp(out, px_cases[i].out) || !res.pixel_inserted) {
			print_message("pixel case \"%s\":\n  got:  %s\n  want: %s\n",
			    px_cases[i].name, out, px_cases[i].out);
			bad++;
		}
		free(out);
		buf_free(&r.log);
	}
	assert_int_equal(bad, 0);
}

/* pixel and links together; html_rewrite appends to what out holds */
static void
test_pixel_and_links(void **state)
{
	static const char	 in[] = "<body><a href=https://e.example/>x</a></body>";
	struct html_opts	 o = { 0 };
	struct html_result	 res;
	struct buf		 out = BUF_INIT;
	struct rec		 r;

	(void)state;
	memset(&r, 0, sizeof(r));
	o.link_fn = rec_link;
	o.arg = &r;
	o.pixel = "<img src=p>";
	o.pixel_len = strlen(o.pixel);
	assert_int_equal(buf_puts(&out, "HEAD:"), 0);
	assert_int_equal(html_rewrite(in, strlen(in), &o, &out, &res), 0);
	assert_string_equal(out.data,
	    "HEAD:<body><a href=\"https://t/0\">x</a><img src=p></body>");
	assert_int_equal(res.links_seen, 1);
	assert_int_equal(res.links_rewritten, 1);
	assert_int_equal(res.pixel_inserted, 1);
	buf_reset(&out);
	assert_int_equal(buf_puts(&out, "HEAD:"), 0);
	o.pixel_top = 1;
	assert_int_equal(html_rewrite(in, strlen(in), &o, &out, &res), 0);
	assert_string_equal(out.data,
	    "HEAD:<body><img src=p><a href=\"https://t/0\">x</a></body>");
	/* a rewritten link, then a tag the end cuts: the pixel before it */
	buf_reset(&out);
	assert_int_equal(buf_puts(&out, "HEAD:"), 0);
	o.pixel_top = 0;
	assert_int_equal(html_rewrite("<a href=https://e.example/>x</a><a href=\"h",
	    42, &o, &out, &res), 0);
	assert_string_equal(out.data,
	    "HEAD:<a href=\"https://t/0\">x</a><img src=p><a href=\"h");
	buf_reset(&out);
	assert_int_equal(buf_puts(&out, "HEAD:"), 0);
	o.pixel = NULL;
	assert_int_equal(html_rewrite("<p>", 3, &o, &out, &res), 0);
	assert_string_equal(out.data, "HEAD:<p>");
	assert_int_equal(res.pixel_inserted, 0);
	/* an empty input, even a NULL one */
	buf_reset(&out);
	o.pixel = "[P]";
	o.pixel_len = 3;
	assert_int_equal(html_rewrite(NULL, 0, &o, &out, NULL), 0);
	assert_string_equal(out.data, "[P]");
	buf_reset(&out);
	assert_int_equal(html_rewrite(NULL, 0, NULL, &out, &res), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	buf_free(&r.log);
}

/* ---- counts, fields, errors ---- */

static void
test_results(void **state)
{
	static const char in[] =
	    "<a href=https://e.example/0 data-pm-no-track ses:no-track>"
	    "<a href=mailto:x><a href=https://e.example/1><area href=https://e.example/2>";
	const struct html_opts	 none = { 0 };
	struct html_result	 res;
	struct rec		 r;
	size_t			 n;
	char			*out;
	int			 rc;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.mode = M_DETAIL;
	out = run(in, strlen(in), &none, &r, &res, &rc, &n);
	assert_int_equal(rc, 0);
	assert_string_equal(r.log.data, "0 a 0 https://e.example/1\n"
	    "1 area 0 https://e.example/2\n");
	assert_int_equal(res.links_seen, 2);
	assert_int_equal(res.links_rewritten, 2);
	assert_int_equal(res.optouts_removed, 2);
	assert_int_equal(res.pixel_inserted, 0);
	assert_string_equal(out, "<a href=https://e.example/0>"
	    "<a href=mailto:x><a href=\"https://t/0\"><area href=\"https://t/1\">");
	free(out);
	buf_free(&r.log);
}

/* without a callback nothing about links changes, markers included */
static void
test_no_callback(void **state)
{
	static const char in[] = "<a href=https://e.example/0 data-pm-no-track>";
	struct html_result	 res;
	struct buf		 b = BUF_INIT;

	(void)state;
	assert_int_equal(html_rewrite(in, strlen(in), NULL, &b, &res), 0);
	assert_string_equal(b.data, in);
	assert_int_equal(res.links_seen + res.optouts_removed, 0);
	buf_free(&b);
}

static void
test_callback_error(void **state)
{
	static const char in[] = "<a href=https://e.example/0><a href=https://e.example/1>"
	    "<a href=https://e.example/2>";
	const struct html_opts	 none = { 0 };
	struct html_result	 res;
	struct rec		 r;
	size_t			 n;
	char			*out;
	int			 rc;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.mode = M_FAIL;
	out = run(in, strlen(in), &none, &r, &res, &rc, &n);
	assert_int_equal(rc, -1);
	/* it stopped at the failing link */
	assert_string_equal(r.log.data, "https://e.example/0\nhttps://e.example/1\n");
	free(out);
	buf_free(&r.log);
}

/* the callback may keep some links and rewrite others */
static void
test_keep_some(void **state)
{
	static const char in[] = "<a href=https://e.example/0><a href=https://e.example/1>";
	const struct html_opts	 none = { 0 };
	struct html_result	 res;
	struct rec		 r;
	size_t			 n;
	char			*out;
	int			 rc;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.mode = M_KEEP;
	out = run(in, strlen(in), &none, &r, &res, &rc, &n);
	assert_int_equal(rc, 0);
	assert_int_equal(res.links_seen, 2);
	assert_int_equal(res.links_rewritten, 0);
	assert_string_equal(out, in);
	free(out);
	buf_free(&r.log);
}

/* ---- NUL bytes ---- */

static void
test_nul(void **state)
{
	static const char in[] =
	    "<a\0 href=\"https://e.example/0\">"	/* tag "a\uFFFD": no link */
	    "<a h\0ref=\"https://e.example/1\">"	/* no href */
	    "\0<\0a href=https://e.example/2>"	/* no tag */
	    "<a href=\"https://e.example/3\0x\">"	/* NUL becomes U+FFFD */
	    "<a href=\"https://e.example/4\"\0>";	/* attribute "\uFFFD" */
	const struct html_opts	 none = { 0 };
	struct html_result	 res;
	struct rec		 r;
	size_t			 n, len = sizeof(in) - 1;
	char			*out;
	int			 rc;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.mode = M_KEEP;
	out = run(in, len, &none, &r, &res, &rc, &n);
	assert_int_equal(rc, 0);
	assert_int_equal(n, len);
	assert_memory_equal(out, in, len);
	assert_string_equal(r.log.data,
	    "https://e.example/3\xEF\xBF\xBDx\nhttps://e.example/4\n");
	free(out);
	buf_free(&r.log);
}

/* ---- byte identity ---- */

static const char *const fragments[] = {
	"<a href=\"https://e.example/?a=1&amp;b=2\">", "<a href='x'>", "<a href=y>",
	"<A HREF=https://e.example/ data-mtrack=off>", "</a>", "<", ">", "\"", "'",
	"=", "&", "&amp;", "&#x", "<!--", "-->", "--!>", "<!-->", "<!", "<?", "</",
	"<script>", "</script>", "<style>", "</style>", "<title>", "</title>",
	"<!--[if mso]>", "<![endif]-->", "<v:rect href=https://e.example/v>",
	"<base href=https://b.example/d/>", "<body>", "</body>", "\0", "\r\n", " ",
	"\t", "text", "<plaintext>", "<textarea>", "</textarea>", "<a/", "href=",
	"<!DOCTYPE html>", "<area href=\"/x\">", "\xEF\xBB\xBF", "\xff", "-",
};

/*
 * identity - with the callback keeping everything and no pixel, out == in
 * (unless opt-out markers are removed)
 */
static void
identity(const char *in, size_t len, const struct html_opts *o)
{
	struct html_result	 res;
	struct rec		 r;
	size_t			 n;
	char			*out;
	int			 rc;

	memset(&r, 0, sizeof(r));
	r.mode = M_KEEP;
	out = run(in, len, o, &r, &res, &rc, &n);
	assert_int_equal(rc, 0);
	assert_int_equal(n, len);
	assert_memory_equal(out, in, len);
	assert_int_equal(res.links_rewritten, 0);
	free(out);
	buf_free(&r.log);
}

static void
test_identity_random(void **state)
{
	const struct html_opts	 none = { 0 };
	struct html_opts	 px = { 0 };
	struct buf		 in = BUF_INIT;
	struct html_result	 res;
	struct rec		 r;
	unsigned		 seed = 12345, k, j, nf, nt;
	size_t			 n;
	char			*o, *p;
	int			 rc;

	(void)state;
	nf = sizeof(fragments) / sizeof(fragments[0]);
	px.pixel = "";
	px.pixel_len = 0;
	for (k = 0; k < 3000; k++) {
		buf_reset(&in);
		for (j = 0; j < 1 + k % 40; j++) {
			const char *f;

			seed = seed * 1103515245 + 12345;
			f = fragments[(seed >> 16) % nf];
			/* "\0" stands for one NUL byte */
			assert_int_equal(buf_append(&in, f, *f ? strlen(f) : 1), 0);
		}
		if (memmem(in.data, in.len, "data-mtrack", 11) == NULL) {
			identity(in.data, in.len, &none);
			/* an empty pixel changes nothing either */
			identity(in.data, in.len, &px);
			/* the input cut anywhere */
			identity(in.data, in.len / 2, &none);
		}
		/* rewriting: each rewritten link is in the output once */
		memset(&r, 0, sizeof(r));
		o = run(in.data, in.len, &none, &r, &res, &rc, &n);
		assert_int_equal(rc, 0);
		assert_int_equal(res.links_rewritten, res.links_seen);
		for (nt = 0, p = o; (p = memmem(p, n - (size_t)(p - o),
		    "\"https://t/", 11)) != NULL; p++)
			nt++;
		assert_int_equal(nt, res.links_rewritten);
		free(o);
		buf_free(&r.log);
	}
	buf_free(&in);
}

/* ---- scale ---- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_many_links(void **state)
{
	const struct html_opts	 none = { 0 };
	struct buf		 in = BUF_INIT;
	struct html_result	 res;
	struct rec		 r;
	size_t			 n;
	unsigned		 i;
	double			 t;
	char			*out;
	int			 rc;

	(void)state;
	assert_int_equal(buf_puts(&in, "<html><body>"), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_printf(&in, "<a href=\"https://e.example/%u?"
		    "a=b&amp;c=d\">Link %u</a><br>\n", i, i), 0);
	assert_int_equal(buf_puts(&in, "</body></html>"), 0);
	assert_true(in.len > 5 * 1000 * 1000);
	memset(&r, 0, sizeof(r));
	r.mode = M_KEEP;
	t = now();
	out = run(in.data, in.len, &none, &r, &res, &rc, &n);
	t = now() - t;
	assert_int_equal(rc, 0);
	assert_int_equal(res.links_seen, 100000);
	assert_memory_equal(out, in.data, in.len);
	/* linear: a quadratic scan of 5 MB would take minutes */
	print_message("# %zu bytes, 100000 links: %.3f s\n", in.len, t);
	assert_true(t < 5.0);
	free(out);
	buf_free(&r.log);
	buf_free(&in);
}

/* inputs that trip quadratic scanners: prefix, unit repeated to 2 MB, suffix */
static void
test_pathological(void **state)
{
	static const struct {
		const char	*pre, *unit, *post;
	} p[] = {
		{ "<a href=https://e.example/", " a", ">" },
		{ "<a href=https://e.example/", " a=1", ">" },
		{ "<a href='https://e.example/?", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "'>" },
		{ "<a href='https://e.example/?", "&#1234567", "'>" },
		{ "<a href='https://e.example/?", "&notinvx", "'>" },
		{ "", "<a", "" }, { "", "<", "" }, { "", "<!--", "" },
		{ "", "<a href='", "" }, { "", "&amp", "" }, { "", "<script>", "" },
		{ "", "<!--[if mso]>", "" }, { "", "<!--[if mso]><a href=x>-->", "" },
		{ "", "<title>", "" }, { "", "</", "" }, { "", "-", "" },
		{ "", "<!--<script>", "" }, { "<script>", "<!--<script>", "" },
		{ "<script><!--", "<script></script>", "" }, { "", "<base ", "" },
		{ "<!--[if mso]>", "<v:rect href=", "" },
	};
	const struct html_opts	 none = { 0 };
	struct buf		 in = BUF_INIT;
	size_t			 i, j;
	double			 t;

	(void)state;
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		buf_reset(&in);
		assert_int_equal(buf_puts(&in, p[i].pre), 0);
		for (j = 0; in.len < 2000000; j++)
			assert_int_equal(buf_puts(&in, p[i].unit), 0);
		assert_int_equal(buf_puts(&in, p[i].post), 0);
		t = now();
		identity(in.data, in.len, &none);
		t = now() - t;
		if (t > 2.0)
			fail_msg("unit \"%s\": %.2f s", p[i].unit, t);
	}
	/* a tag with 200,000 distinct attributes, then a link */
	buf_reset(&in);
	assert_int_equal(buf_puts(&in, "<a"), 0);
	for (j = 0; j < 200000; j++)
		assert_int_equal(buf_printf(&in, " x%zu", j), 0);
	assert_int_equal(buf_puts(&in, " href=https://e.example/ x7>"), 0);
	{
		struct html_result	 res;
		struct rec		 r;
		size_t			 n;
		char			*out;
		int			 rc;

		memset(&r, 0, sizeof(r));
		t = now();
		out = run(in.data, in.len, &none, &r, &res, &rc, &n);
		t = now() - t;
		assert_int_equal(rc, 0);
		assert_string_equal(r.log.data, "https://e.example/\n");
		assert_non_null(strstr(out, " href=\"https://t/0\" x7>"));
		assert_true(t < 2.0);
		free(out);
		buf_free(&r.log);
	}
	buf_free(&in);
}

/* ---- golden files ---- */

static const char golden_pixel[] =
    "<img src=\"https://track.example/o/1.png\" width=\"1\" height=\"1\" alt=\"\">";

static int
golden_link(void *arg, const struct html_link *l, struct buf *repl)
{
	(void)arg;
	/* the callback's own decision: one host is never tracked */
	if (strstr(l->url, "//keep.example") != NULL)
		return 0;
	return buf_printf(repl, "https://track.example/c/%u?m=%d&t=%s", l->index,
	    l->in_mso, l->tag) == -1 ? -1 : 1;
}

static void
test_golden(void **state)
{
	const char	*top = getenv("MTRACK_TOP");
	char		 dir[4096], path[4200], *in, *want;
	struct dirent	*de;
	DIR		*d;
	size_t		 inlen, wantlen, nl;
	unsigned	 n = 0, bad = 0;
	struct buf	 out = BUF_INIT;
	struct html_opts o = { 0 };
	struct html_result res;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/data/html", top ? top : ".");
	assert_non_null(d = opendir(dir));
	o.link_fn = golden_link;
	o.pixel = golden_pixel;
	o.pixel_len = strlen(golden_pixel);
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl < 9 || strcmp(de->d_name + nl - 8, ".in.html"))
			continue;
		snprintf(path, sizeof(path), "tests/data/html/%s", de->d_name);
		assert_non_null(in = unit_read(path, &inlen));
		memcpy(path + strlen(path) - 8, ".out.html", 10);
		if ((want = unit_read(path, &wantlen)) == NULL)
			fail_msg("%s missing", path);
		buf_reset(&out);
		/* a "-top" document puts the pixel at the top */
		o.pixel_top = strstr(de->d_name, "-top.") != NULL;
		assert_int_equal(html_rewrite(in, inlen, &o, &out, &res), 0);
		if (out.len != wantlen || memcmp(out.data, want, wantlen)) {
			print_message("golden %s differs (%zu vs %zu bytes)\n",
			    de->d_name, out.len, wantlen);
			bad++;
		}
		/* a callback that keeps all gives the input back, markers aside */
		if (res.optouts_removed == 0)
			identity(in, inlen, &(struct html_opts){ 0 });
		buf_reset(&out);
		assert_int_equal(html_rewrite(in, inlen, NULL, &out, &res), 0);
		assert_int_equal(out.len, inlen);
		assert_memory_equal(out.data, in, inlen);
		free(in);
		free(want);
		n++;
	}
	closedir(d);
	buf_free(&out);
	assert_true(n >= 4);
	assert_int_equal(bad, 0);
}

/* ---- the scanner and the decoder directly ---- */

struct tokens {
	struct buf	 log;
};

static int
log_token(void *arg, const struct html_token *t)
{
	struct tokens	*tk = arg;
	size_t		 i;

	switch (t->type) {
	case HTML_START_TAG:
		assert_int_equal(buf_printf(&tk->log, "<%s%s", t->name,
		    t->in_mso ? "(mso)" : ""), 0);
		for (i = 0; i < t->nattrs; i++)
			assert_int_equal(buf_printf(&tk->log, " %s=[%s]@%zu-%zu-%zu",
			    t->attrs[i].name, t->attrs[i].value, t->attrs[i].start,
			    t->attrs[i].vstart, t->attrs[i].end), 0);
		assert_int_equal(buf_printf(&tk->log, "%s>%zu-%zu\n",
		    t->self_closing ? "/" : "", t->start, t->end), 0);
		break;
	case HTML_END_TAG:
		assert_int_equal(buf_printf(&tk->log, "</%s>%zu-%zu\n", t->name,
		    t->start, t->end), 0);
		break;
	case HTML_COMMENT:
		assert_int_equal(buf_printf(&tk->log, "#%zu-%zu/%zu-%zu\n",
		    t->start, t->end, t->data_start, t->data_end), 0);
		break;
	case HTML_DOCTYPE:
		assert_int_equal(buf_printf(&tk->log, "!%zu-%zu\n", t->start,
		    t->end), 0);
		break;
	}
	return 0;
}

static int
stop_at_second(void *arg, const struct html_token *t)
{
	int *n = arg;

	(void)t;
	return ++*n == 2 ? 42 : 0;
}

static void
test_scan(void **state)
{
	static const char in[] =
	    "<!doctype html><P Class=x id='a&amp;b' hidden/><!--c--></p>"
	    "<!--[if mso]><v:rect href=u /><![endif]--><br/ >";
	struct tokens	 tk;
	int		 n = 0;

	(void)state;
	memset(&tk, 0, sizeof(tk));
	assert_int_equal(html_scan(in, strlen(in), 0, log_token, &tk), 0);
	assert_string_equal(tk.log.data,
	    "!0-15\n"
	    "<p class=[x]@18-24-25 id=[a&b]@26-29-38 hidden=[]@39-45-45/>15-47\n"
	    "#47-55/51-52\n"
	    "</p>55-59\n"
	    "#59-101/63-98\n"
	    "<v:rect(mso) href=[u]@80-85-86/>72-89\n"
	    "#89-98/91-98\n"
	    "<br>101-107\n");
	buf_reset(&tk.log);
	/* the tokenizer alone does not look into conditional comments */
	assert_int_equal(html_scan(in, strlen(in), HTML_SCAN_TOKENIZER,
	    log_token, &tk), 0);
	assert_null(strstr(tk.log.data, "v:rect"));
	buf_free(&tk.log);
	/* a non-zero callback value stops the scan and is returned */
	assert_int_equal(html_scan(in, strlen(in), 0, stop_at_second, &n), 42);
	assert_int_equal(n, 2);
}

static void
test_decode(void **state)
{
	static const struct {
		const char	*in;
		unsigned	 flags;
		const char	*out;
	} c[] = {
		{ "a&amp;b&lt&gt;", 0, "a&b<>" },
		{ "&copy=&copy1&copy", HTML_DECODE_ATTR, "&copy=&copy1\xC2\xA9" },
		{ "&copy=&copy1&copy", 0, "\xC2\xA9=\xC2\xA9" "1\xC2\xA9" },
		{ "&notit;&notin;", 0, "\xC2\xACit;\xE2\x88\x89" },
		{ "&notit;", HTML_DECODE_ATTR, "&notit;" },
		{ "a\r\nb\rc\n", 0, "a\nb\nc\n" },
		{ "&#X1F600;&#65&#x;&#;&", 0, "\xF0\x9F\x98\x80" "A&#x;&#;&" },
		{ "&#x9F;&#x81;&#xFFFE;", 0, "\xC5\xB8\xC2\x81\xEF\xBF\xBE" },
		{ "&CounterClockwiseContourIntegral;", 0, "\xE2\x88\xB3" },
		{ "&", 0, "&" },
		{ "", 0, "" },
	};
	struct buf	 b = BUF_INIT;
	size_t		 i, vlen;
	const char	*v;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf_reset(&b);
		assert_int_equal(html_decode(c[i].in, strlen(c[i].in), c[i].flags, &b), 0);
		assert_non_null(b.data);
		assert_string_equal(b.data, c[i].out);
	}
	buf_reset(&b);
	assert_int_equal(html_decode("x\0y", 3, HTML_DECODE_ATTR, &b), 0);
	assert_memory_equal(b.data, "x\xEF\xBF\xBDy", 5);
	buf_reset(&b);
	assert_int_equal(html_decode("x\0y", 3, 0, &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "x\0y", 3);
	buf_free(&b);
	assert_non_null(v = html_entity_lookup("amp;", 4, &vlen));
	assert_memory_equal(v, "&", 1);
	assert_int_equal(vlen, 1);
	assert_null(html_entity_lookup("amp;x", 5, &vlen));
	assert_null(html_entity_lookup("Abreve", 6, &vlen));
	assert_non_null(html_entity_lookup("Abreve;", 7, &vlen));
	assert_non_null(html_entity_lookup("zwnj;", 5, &vlen));
	assert_non_null(html_entity_lookup("AElig", 5, &vlen));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_rfc3986),
		cmocka_unit_test(test_pixel),
		cmocka_unit_test(test_pixel_and_links),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_no_callback),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_keep_some),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_identity_random),
		cmocka_unit_test(test_many_links),
		cmocka_unit_test(test_pathological),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
