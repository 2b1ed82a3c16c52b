/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Readiness notification to the service manager (systemd Type=notify) on
 * $NOTIFY_SOCKET, without libsystemd.
 */
#ifndef LNT_NOTIFY_H
#define LNT_NOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

#include "core.h"

/*
 * Send <state> ("READY=1", "RELOADING=1", "STOPPING=1", several separated
 * by newlines) as one datagram to $NOTIFY_SOCKET, a socket path or an
 * abstract name written "@name".  Returns 0 when sent or when no manager
 * listens (the variable is unset), -1 with errno set on failure.
 */
int	lnt_notify(const char *state);

/*
 * Fill <sun>/<len> from <name> (a path, or "@name" for the abstract
 * namespace).  Returns 0, or -1 with errno EINVAL if it is empty or too long.
 */
int	lnt_notify_addr(const char *name, struct sockaddr_un *sun,
	    socklen_t *len);

#endif /* LNT_NOTIFY_H */
