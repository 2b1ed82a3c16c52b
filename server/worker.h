/* SPDX-License-Identifier: BSD-2-Clause */
/* A worker process: one epoll loop serving the listening sockets. */
#ifndef LNT_WORKER_H
#define LNT_WORKER_H

#include "core.h"

/*
 * Serve <conf>'s listening sockets (conf->listens[i].fd) until told to stop.
 * Called in the child after fork and privilege drop, with every signal
 * blocked (the master blocks them all before forking); the worker takes
 * QUIT (graceful stop: stop accepting, finish in-flight requests, bounded by
 * shutdown_timeout), TERM/INT (exit now) and USR1 (reopen logs) from a
 * signalfd.  <slot> numbers the worker (0..workers-1) for logs.  Exits the
 * process with status 0 after a stop, 1 on a fatal setup error.
 */
void	lnt_worker_main(lnt_conf_t *conf, int slot) __attribute__((noreturn));

/* The configuration this worker serves (set by lnt_worker_main). */
extern lnt_conf_t	*lnt_worker_conf;

#endif /* LNT_WORKER_H */
