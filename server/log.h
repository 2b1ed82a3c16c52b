/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The error log: one line per event, to a file, stderr or syslog, at syslog
 * levels.  Line format (files and stderr):
 *   2026/11/22 15:04:05 [error] 1234#worker: message
 * Tests and operators grep for "[alert]" and "[crit]".
 */
#ifndef LNT_LOG_H
#define LNT_LOG_H

#include "core.h"

/* Same numbers as syslog(3) priorities. */
enum lnt_log_level {
	LNT_LOG_EMERG = 0,
	LNT_LOG_ALERT,
	LNT_LOG_CRIT,
	LNT_LOG_ERR,
	LNT_LOG_WARN,
	LNT_LOG_NOTICE,
	LNT_LOG_INFO,
	LNT_LOG_DEBUG
};

/* "error" -> LNT_LOG_ERR ("warn"/"warning", "err"/"error" both accepted); -1 if unknown. */
int		 lnt_log_level_parse(const char *name);
/* LNT_LOG_ERR -> "error". */
const char	*lnt_log_level_name(int level);

/*
 * Direct the error log to <target> ("stderr", "syslog" or a file path,
 * opened O_APPEND|O_CREAT, mode 0640, then chowned to <uid>/<gid> when run
 * as root so workers can reopen it) at <level>.  On failure returns -1 and
 * leaves the previous target in place, with errno set.  Before the first call
 * everything goes to stderr at notice.
 */
int		 lnt_log_open(const char *target, int level, uid_t uid,
		    gid_t gid);

/* Reopen the current file target (USR1); -1 with errno on failure. */
int		 lnt_log_reopen(void);

/* Name this process in every line: "master", "worker", "helper". */
void		 lnt_log_set_role(const char *role);

/* Current level: lines above it are dropped. */
int		 lnt_log_level(void);

void		 lnt_log(int level, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* As lnt_log, with ": " and strerror(<err>) appended. */
void		 lnt_log_errno(int level, int err, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

#endif /* LNT_LOG_H */
