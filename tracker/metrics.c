/*
 * metrics - the Prometheus text of /metrics (see metrics.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "metrics.h"
#include "publish.h"
#include "tls.h"

/* a metric of one value */
struct metric {
	const char	*name, *type, *help;
	uint64_t	 v;
};

/* metrics_family - the HELP and TYPE lines of a metric; 0 or -1 */
static int
metrics_family(struct buf *b, const char *name, const char *type,
    const char *help)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* metrics_list - metrics of one value each; 0 or -1 */
static int
metrics_list(struct buf *b, const struct metric *m, size_t n)
{
	size_t	i;
	int	bad = 0;

	for (i = 0; i < n; i++) {
		bad |= metrics_family(b, m[i].name, m[i].type, m[i].help);
		bad |= buf_printf(b, "%s %" PRIu64 "\n", m[i].name, m[i].v);
	}
	return bad ? -1 : 0;
}

/* metrics_requests - requests by route and status, events queued by type */
static int
metrics_requests(struct buf *b, const struct metrics_http *m)
{
	size_t	i, j;
	int	bad = 0;

	bad |= metrics_family(b, "mtrack_http_requests_total", "counter",
	    "Requests answered, by route and status.");
	for (i = 0; i < m->nroutes; i++)
		for (j = 0; j < m->ncodes; j++)
			if (m->req[i * m->ncodes + j])
				bad |= buf_printf(b, "mtrack_http_requests_total"
				    "{route=\"%s\",code=\"%u\"} %" PRIu64 "\n",
				    m->routes[i], m->codes[j],
				    m->req[i * m->ncodes + j]);
	bad |= metrics_family(b, "mtrack_events_queued_total", "counter",
	    "Events handed to the store writer.");
	bad |= buf_printf(b, "mtrack_events_queued_total{type=\"click\"} %"
	    PRIu64 "\nmtrack_events_queued_total{type=\"open\"} %" PRIu64 "\n",
	    m->clicks, m->opens);
	return bad ? -1 : 0;
}

/* metrics_service - the HTTP service's and the writer's counters */
static int
metrics_service(struct buf *b, const struct metrics_http *m,
    const struct store_wstats *ws)
{
	const struct metric l[] = {
		{ "mtrack_events_dropped_total", "counter",
		    "Events the store queue refused (full or no memory).",
		    m->dropped },
		{ "mtrack_store_errors_total", "counter",
		    "Store reads that failed.", m->store_errors },
		{ "mtrack_unsafe_urls_total", "counter",
		    "Stored URLs refused as a Location.", m->unsafe_urls },
		{ "mtrack_sealed_opened_total", "counter",
		    "Sealed links and pixels opened with a key.", m->sealed },
		{ "mtrack_sealed_refused_total", "counter",
		    "Sealed tokens that did not open (changed, unknown or"
		    " retired key): answered as unknown IDs.", m->sealed_bad },
		{ "mtrack_revoked_total", "counter",
		    "Hits on links or pixels listed in link_revoked.",
		    m->revoked },
		{ "mtrack_http_library_messages_total", "counter",
		    "Messages of the HTTP library, mostly malformed requests.",
		    m->lib_msgs },
		{ "mtrack_http_requests_active", "gauge",
		    "Requests being handled.", m->active },
		{ "mtrack_http_connections", "gauge",
		    "Open connections of the public listener.", m->conns },
		{ "mtrack_http_threads", "gauge", "Worker threads.", m->threads },
		{ "mtrack_http_connection_limit", "gauge",
		    "Open connections allowed per public listener.",
		    m->conn_limit },
		{ "mtrack_fd_exhausted_total", "counter",
		    "Connections not accepted: no file descriptor left.",
		    m->fd_exhausted },
		{ "mtrack_store_commits_total", "counter",
		    "Write transactions committed.", ws->commits },
		{ "mtrack_store_jobs_total", "counter",
		    "Jobs (events, messages) written.", ws->jobs },
		{ "mtrack_store_jobs_failed_total", "counter",
		    "Jobs the writer failed.", ws->failed },
		{ "mtrack_store_jobs_dropped_total", "counter",
		    "Jobs the writer dropped.", ws->dropped },
		{ "mtrack_store_producer_waits_total", "counter",
		    "Times a request waited for the writer (backpressure).",
		    ws->waits },
		{ "mtrack_start_time_seconds", "gauge",
		    "Start of the process, Unix time.", (uint64_t)m->start_time },
	};

	return metrics_list(b, l, sizeof(l) / sizeof(l[0]));
}

/* metrics_tls - the HTTPS listener's part, when it runs */
static int
metrics_tls(struct buf *b, const struct metrics_http *m)
{
	struct tls_stats ts;

	if (!m->https)
		return 0;
	tls_stats(&ts);

	const struct metric l[] = {
		{ "mtrack_https_connections", "gauge",
		    "Open connections of the HTTPS listener.", m->https_conns },
		{ "mtrack_tls_certificates", "gauge",
		    "Certificates loaded.", ts.certificates },
		{ "mtrack_tls_certificate_expiry_seconds", "gauge",
		    "Earliest expiry of a loaded certificate, Unix time.",
		    (uint64_t)ts.not_after },
		{ "mtrack_tls_loads_total", "counter",
		    "Certificate sets loaded (start and reloads).", ts.reloads },
		{ "mtrack_tls_handshakes_total", "counter",
		    "Certificates handed to handshakes.", ts.handshakes },
		{ "mtrack_tls_default_certificate_total", "counter",
		    "Handshakes without SNI or with an unknown name.",
		    ts.fallbacks },
		{ "mtrack_tls_certificate_errors_total", "counter",
		    "Handshakes that got no certificate.", ts.failures },
	};

	return metrics_list(b, l, sizeof(l) / sizeof(l[0]));
}

/* metrics_store - commit times, and the records the global counters give */
static int
metrics_store(struct buf *b, const struct store_wstats *ws, struct store *s)
{
	struct store_counts	sc;
	int			bad = 0;

	bad |= metrics_family(b, "mtrack_store_commit_seconds_total", "counter",
	    "Time spent committing.");
	bad |= buf_printf(b, "mtrack_store_commit_seconds_total %.6f\n",
	    (double)ws->commit_us_total / 1e6);
	bad |= metrics_family(b, "mtrack_store_commit_seconds_max", "gauge",
	    "Longest commit.");
	bad |= buf_printf(b, "mtrack_store_commit_seconds_max %.6f\n",
	    (double)ws->commit_us_max / 1e6);
	if (store_counts(s, &sc) == 0) {
		bad |= metrics_family(b, "mtrack_store_records", "gauge",
		    "Records in the store.");
		bad |= buf_printf(b, "mtrack_store_records{kind=\"messages\"} %"
		    PRIu64 "\nmtrack_store_records{kind=\"links\"} %" PRIu64
		    "\nmtrack_store_records{kind=\"opens\"} %" PRIu64
		    "\nmtrack_store_records{kind=\"clicks\"} %" PRIu64 "\n",
		    sc.messages, sc.links, sc.opens, sc.clicks);
	}
	return bad ? -1 : 0;
}

/* metrics_journal - the event journal: what waits for the fold, how fast it goes */
static int
metrics_journal(struct buf *b, struct store *s)
{
	struct store_jstats	js;
	int			bad = 0;

	if (store_journal_stats(s, &js) == -1)
		return 0;
	const struct metric l[] = {
		{ "mtrack_journal_pending_bytes", "gauge",
		    "Event journal bytes appended and not folded into the store.",
		    js.pending_bytes },
		{ "mtrack_journal_max_bytes", "gauge",
		    "The bound of pending bytes (journal_max).", js.max_bytes },
		{ "mtrack_journal_backpressure", "gauge",
		    "1 while requests wait for the fold (pending over journal_max).",
		    (uint64_t)js.backpressure },
		{ "mtrack_journal_waits_total", "counter",
		    "Events whose request waited for room in the journal.",
		    js.waits },
		{ "mtrack_journal_appends_total", "counter",
		    "Events appended to the journal since start.", js.appends },
		{ "mtrack_journal_folded_total", "counter",
		    "Events folded from the journal into the store since start.",
		    js.folded },
		{ "mtrack_journal_dropped_total", "counter",
		    "Events the fold could not apply and passed over.",
		    js.dropped },
		{ "mtrack_journal_skipped_bytes_total", "counter",
		    "Damaged journal bytes skipped at replay.", js.skipped_bytes },
	};

	bad |= metrics_list(b, l, sizeof(l) / sizeof(l[0]));
	bad |= metrics_family(b, "mtrack_journal_fold_lag_seconds", "gauge",
	    "Age of the last event folded while more wait; 0: caught up.");
	bad |= buf_printf(b, "mtrack_journal_fold_lag_seconds %.3f\n", js.lag_s);
	bad |= metrics_family(b, "mtrack_journal_fold_rate", "gauge",
	    "Events folded per second, lately.");
	bad |= buf_printf(b, "mtrack_journal_fold_rate %.0f\n", js.fold_rate);
	return bad ? -1 : 0;
}

/* metrics_stream - the publisher's backlog and results (none without one) */
static int
metrics_stream(struct buf *b, struct publish *p)
{
	struct publish_stats	ps;

	if (p == NULL)
		return 0;
	publish_stats(p, &ps);
	const struct metric l[] = {
		{ "mtrack_stream_backlog", "gauge", "Feed entries after the"
		    " publisher's cursor: records not published yet.",
		    ps.backlog },
		{ "mtrack_stream_published_total", "counter",
		    "Records the stream acknowledged.", ps.published },
		{ "mtrack_stream_errors_total", "counter",
		    "Rounds of publishes that failed and were sent again.",
		    ps.errors },
		{ "mtrack_stream_connected", "gauge",
		    "1 while connected to a NATS server.",
		    (uint64_t)ps.connected },
	};

	return metrics_list(b, l, sizeof(l) / sizeof(l[0]));
}

int
metrics_text(struct buf *b, const struct metrics_http *m, struct store *s)
{
	struct store_wstats ws;

	store_writer_stats(s, &ws);
	if (metrics_requests(b, m) == -1 ||
	    metrics_service(b, m, &ws) == -1 ||
	    metrics_tls(b, m) == -1 ||
	    metrics_store(b, &ws, s) == -1 ||
	    metrics_journal(b, s) == -1 ||
	    metrics_stream(b, m->publish) == -1)
		return -1;
	return 0;
}
