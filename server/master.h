/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The master process: loads the config, binds the listeners, forks and
 * supervises the workers and the helper, and acts on the signals of
 * DESIGN.md section 2 (reload, stops, log reopening, binary upgrade).
 */
#ifndef LNT_MASTER_H
#define LNT_MASTER_H

#include "core.h"

typedef struct lnt_master_opts_s {
	const char	 *conf_path;	/* as given with -c (may be relative) */
	bool		  foreground;	/* -f: no fork, no setsid */
	char		**argv;		/* main()'s argv, re-executed on USR2 */
} lnt_master_opts_t;

/*
 * Run the master with <opts> until it is stopped.  Startup errors are
 * printed on stderr (and logged once the error log is open).  Returns the
 * process exit status: 0 after a stop, 1 if it could not start.
 */
int	lnt_master_run(const lnt_master_opts_t *opts);

#endif /* LNT_MASTER_H */
