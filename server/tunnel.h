/* SPDX-License-Identifier: BSD-2-Clause */
/* A tunnel after "101 Switching Protocols" (WebSocket and other upgrades). */
#ifndef LNT_TUNNEL_H
#define LNT_TUNNEL_H

#include "core.h"

/*
 * Move bytes both ways between <c>'s client and its upstream until both
 * sides have closed; the 101 head waiting in c->up.chead goes first.  Ends
 * by closing <c>.
 */
void	lnt_tunnel_pump(lnt_conn_t *c);

/* Nothing moved for read_timeout: close the tunnel. */
void	lnt_tunnel_timeout(lnt_conn_t *c);

#endif /* LNT_TUNNEL_H */
