/* SPDX-License-Identifier: BSD-2-Clause */
/* HTTP-dates (RFC 9110 §5.6.7): formatting and the three accepted forms. */
#ifndef LNT_HTTP_DATE_H
#define LNT_HTTP_DATE_H

#include <time.h>

#include "core.h"

#define LNT_HTTP_DATE_LEN	29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */

/*
 * Write <t> as an IMF-fixdate into <buf> of <len> bytes (at least
 * LNT_HTTP_DATE_LEN + 1), in English whatever the locale.
 */
void		 lnt_http_date_format(time_t t, char *buf, size_t len);

/* The IMF-fixdate of the current second, cached; static storage. */
const char	*lnt_http_date_now(void);

/*
 * Parse the HTTP-date of <len> bytes at <p>: an IMF-fixdate, an RFC 850
 * date or an asctime() date, nothing before or after.  Returns 0 with the
 * time in <*t>, or -1 if it is not a valid date.
 */
int		 lnt_http_date_parse(const char *p, size_t len, time_t *t);

#endif /* LNT_HTTP_DATE_H */
