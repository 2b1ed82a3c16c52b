/* SPDX-License-Identifier: BSD-2-Clause */
/* Reason phrases for the status codes lintel sends itself. */
#ifndef LNT_HTTP_STATUS_H
#define LNT_HTTP_STATUS_H

/* "Bad Gateway" for 502; "Unknown" for a code it does not know. */
const char	*lnt_http_reason(int status);

#endif /* LNT_HTTP_STATUS_H */
