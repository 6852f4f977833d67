/*
 * ctl_rewrite - "mtrackctl rewrite": the milter's transform on a file.
 * Records the IDs exactly as the milter does; prints the message as
 * Postfix would send it. Notes go to stderr.
 */
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "rewrite.h"
#include "seal_keys.h"

/* the top-level header block ends at the first empty line */
static size_t
header_end(const char *m, size_t len, size_t *body)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (m[i] != '\n')
			continue;
		if (i + 1 < len && m[i + 1] == '\n') {
			*body = i + 2;
			return i + 1;
		}
		if (i + 2 < len && m[i + 1] == '\r' && m[i + 2] == '\n') {
			*body = i + 3;
			return i + 1;
		}
	}
	*body = len;
	return len;
}

static int
ctl_rewrite_rm1(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* ctl_rewrite_rmdir - remove the scratch store of a dry run */
static void
ctl_rewrite_rmdir(const char *dir)
{
	nftw(dir, ctl_rewrite_rm1, 8, FTW_DEPTH | FTW_PHYS);
}

/*
 * ctl_rewrite_scratch - --dry-run: a store of its own in a temporary
 * directory (named into dir), so that nothing reaches the real one; its
 * IDs answer 404 at the tracker. NULL after a message.
 */
static struct store *
ctl_rewrite_scratch(struct ctl *c, char *dir, size_t dirlen)
{
	struct store_opts	 o;
	struct store		*s;
	const char		*tmp = getenv("TMPDIR");
	char			 err[512];

	snprintf(dir, dirlen, "%s/mtrack-dry-run.XXXXXX", tmp && *tmp ? tmp :
	    "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mtrackctl: --dry-run");
		dir[0] = '\0';
		return NULL;
	}
	store_opts_config(&o, &c->cfg);
	if ((s = store_open(dir, &o, 0, err, sizeof(err))) == NULL)
		fprintf(stderr, "mtrackctl: --dry-run store: %s\n", err);
	return s;
}

int
ctl_rewrite(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct rewrite_result	 r;
	struct rewrite_info	 info;
	struct store		*st = NULL;
	struct seal_keys	*keys = NULL;
	struct buf		 in = BUF_INIT, out = BUF_INIT;
	const char		**rcpt = NULL;
	char			 chunk[65536];
	size_t			 n, nrcpt = 0, hend, bstart;
	char			 dry[4096] = "";
	int			 ch, quiet = 0, dry_run = 0, rc = 1;

	memset(&info, 0, sizeof(info));
	memset(&r, 0, sizeof(r));
	while ((ch = getopt_long(argc, argv, "f:t:q", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			info.from = optarg;
			break;
		case 't': {
			const char **v = realloc(rcpt, (nrcpt + 1) * sizeof(*v));

			if (v == NULL)
				goto out;
			rcpt = v;
			rcpt[nrcpt++] = optarg;
			break;
		}
		case 'q':
			quiet = 1;
			break;
		case 'n':
			dry_run = 1;
			break;
		default:
			fprintf(stderr, "usage: mtrackctl rewrite [--from ADDR]"
			    " [--to ADDR]... [--dry-run] [--quiet] < in.eml >"
			    " out.eml\n");
			goto out;
		}
	}
	info.rcpt = rcpt;
	info.nrcpt = nrcpt;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_append(&in, chunk, n) == -1) {
			perror("mtrackctl");
			goto out;
		}
	if (ferror(stdin)) {
		perror("mtrackctl: stdin");
		goto out;
	}
	if (c->cfg.link_mode == LINK_SEALED) {
		char err[512];

		if ((keys = seal_keys_load(c->cfg.link_keys, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "mtrackctl: link_keys: %s\n", err);
			goto out;
		}
		info.keys = keys;
	}
	if ((st = dry_run ? ctl_rewrite_scratch(c, dry, sizeof(dry)) :
	    ctl_store(c, 0)) == NULL)
		goto out;
	if (rewrite_message(&c->cfg, st, &info, in.data ? in.data : "", in.len,
	    &r) == -1) {
		/* as the milter: the message goes out unchanged */
		fprintf(stderr, "mtrackctl: not rewritten: %s\n", r.skip);
		fwrite(in.data, 1, in.len, stdout);
		rc = 0;
		goto out;
	}
	hend = header_end(in.data ? in.data : "", in.len, &bstart);
	if (rewrite_apply_headers(&r, in.data, hend,
	    memmem(in.data ? in.data : "", hend, "\r\n", 2) ? "\r\n" : "\n",
	    &out) == -1)
		goto out;
	if (buf_append(&out, in.data + hend, bstart - hend) == -1)
		goto out;
	if (r.changed) {
		if (buf_append(&out, r.body.data, r.body.len) == -1)
			goto out;
	} else if (buf_append(&out, in.data + bstart, in.len - bstart) == -1)
		goto out;
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)) {
		perror("mtrackctl: stdout");
		goto out;
	}
	if (!quiet) {
		if (r.changed)
			fprintf(stderr, "mtrackctl: rewritten links=%u parts=%u"
			    " pixel=%s message=%s%s\n", r.links, r.parts,
			    r.pixel ? "yes" : "no", r.msg_id[0] ? r.msg_id : "-",
			    dry_run ? " recorded=no (dry run)" : "");
		else
			fprintf(stderr, "mtrackctl: unchanged: %s\n",
			    r.skip ? r.skip : "nothing to track");
	}
	rc = 0;
out:
	rewrite_result_free(&r);
	store_close(st);
	if (dry[0])
		ctl_rewrite_rmdir(dry);
	seal_keys_free(keys);
	buf_free(&in);
	buf_free(&out);
	free(rcpt);
	return rc;
}
