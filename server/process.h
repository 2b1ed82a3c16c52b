/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Processes: forking the workers and the helper with dropped privileges,
 * describing how they ended, respawn backoff, the pid file and becoming a
 * daemon.
 */
#ifndef LNT_PROCESS_H
#define LNT_PROCESS_H

#include <sys/types.h>

#include "core.h"

/* What a child runs: lnt_worker_main() or lnt_helper_main(). */
typedef void	(*lnt_child_main_t)(lnt_conf_t *conf, int slot);

/* Respawn backoff: first delay, cap, and the lifetime that resets it. */
#define LNT_BACKOFF_MIN		100		/* ms */
#define LNT_BACKOFF_MAX		10000		/* ms */
#define LNT_BACKOFF_STABLE	10000		/* ms */

/*
 * Fork a child that runs <entry>(<conf>, <slot>) as <role> ("worker",
 * "helper").  In the child the signal mask is left as is (all blocked: the
 * child takes signals from its own signalfd), it dies with SIGTERM if the
 * master dies, <close_fd> (the master's signalfd; -1 for none) is closed
 * and, when started as root, privileges are dropped to <conf>'s user and
 * group (or it logs at [emerg] and exits 1).  Returns the child's pid to the
 * master, or -1 with errno set if fork failed.  Never returns in the child.
 */
pid_t		 lnt_process_spawn(const char *role, lnt_child_main_t entry,
		    lnt_conf_t *conf, int slot, int close_fd);

/*
 * Become <user> (<uid>/<gid>, supplementary groups from the group
 * database) and check that root cannot be regained.  Returns 0, or -1 after
 * logging at [emerg] what failed.
 */
int		 lnt_process_drop(const char *user, uid_t uid, gid_t gid);

/*
 * Describe the wait(2) <status> into <buf> (<len> bytes): "exited with
 * status 1", "exited on signal 9 (Killed)", "... (core dumped)".
 */
void		 lnt_process_status(int status, char *buf, size_t len);

/*
 * The delay before respawning a child that <lived> ms after the previous
 * delay <prev> (0 at first): none if it lived LNT_BACKOFF_STABLE or longer,
 * else LNT_BACKOFF_MIN doubling up to LNT_BACKOFF_MAX.
 */
lnt_msec_t	 lnt_process_backoff(lnt_msec_t prev, lnt_msec_t lived);

/*
 * Write the calling process's pid to <path> atomically (a temporary file
 * renamed over it).  Returns 0, or -1 with errno set.
 */
int		 lnt_pidfile_write(const char *path);

/*
 * Read the pid in <path>.  Returns it, or -1 with errno set: from open or
 * read, or EINVAL when the file does not hold a positive number.
 */
pid_t		 lnt_pidfile_read(const char *path);

/*
 * Remove <path> if it still holds the calling process's pid (another
 * master may have written it since).
 */
void		 lnt_pidfile_remove(const char *path);

/* Whether process <pid> exists (even if we may not signal it). */
bool		 lnt_process_alive(pid_t pid);

/*
 * Become a daemon: fork, setsid, chdir to /, stdin from /dev/null.  The
 * parent waits until the child calls lnt_process_ready() and exits 0, or 1
 * if the child exits first, so a failed start shows in the exit status.
 * Returns (in the child) the descriptor to pass to lnt_process_ready(), or
 * -1 with errno set if the fork failed.
 */
int		 lnt_process_daemonize(void);

/*
 * Tell the waiting parent (<fd> from lnt_process_daemonize()) that the
 * daemon is up, then point stdout and stderr at /dev/null.
 */
void		 lnt_process_ready(int fd);

#endif /* LNT_PROCESS_H */
