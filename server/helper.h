/* SPDX-License-Identifier: BSD-2-Clause */
/* The helper process: periodic work that must not run in the workers. */
#ifndef LNT_HELPER_H
#define LNT_HELPER_H

#include "core.h"

/*
 * Run the helper for <conf> until QUIT, TERM or INT; USR1 reopens logs.
 * Same entry conditions as lnt_worker_main().  It has no periodic jobs yet:
 * health checks and the cache janitor will register here.
 */
void	lnt_helper_main(lnt_conf_t *conf, int slot) __attribute__((noreturn));

#endif /* LNT_HELPER_H */
