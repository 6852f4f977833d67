/*
 * webreport - the report page (htmlreport.h) at /report on the admin
 * listener, read from the store on each request. The filters are query
 * parameters named as mtrackctl report's options: campaign, domain,
 * message, since, until.
 */
#ifndef MTRACK_WEBREPORT_H
#define MTRACK_WEBREPORT_H

#include <microhttpd.h>

#include "store.h"

/*
 * webreport_response - the answer to a request for /report: the page
 * (*code 200), or a short text/plain reason with *code 400 (a parameter
 * unknown, repeated or invalid), 404 (no such message) or 503 (the store
 * did not answer). NULL when memory is short. The caller queues and
 * destroys the response.
 */
struct MHD_Response *webreport_response(struct store *s,
		    struct MHD_Connection *conn, unsigned *code);

#endif
