/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Error messages of the acl module's file and entry parsers (cidr.c,
 * htpasswd.c): written into the caller's buffer, with untrusted text made
 * safe to log.
 */
#ifndef LNT_ACL_MSG_H
#define LNT_ACL_MSG_H

#include <stddef.h>

/* printf <fmt> into <err> of <errlen> bytes; nothing when <errlen> is 0. */
void		 lnt_acl_errf(char *err, size_t errlen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * Copy the untrusted <s> of <len> bytes into <buf> of <size> bytes (at
 * least 5) for a message: control bytes as '?', cut to fit with "...", so
 * a bad file cannot forge log lines.  Returns <buf>.
 */
const char	*lnt_acl_quote(const char *s, size_t len, char *buf,
		    size_t size);

#endif /* LNT_ACL_MSG_H */
