/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sd_notify(3) without libsystemd: one AF_UNIX datagram per state change,
 * to the socket systemd names in $NOTIFY_SOCKET.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/*
 * Build the address of <name> into <sun>/<len>: a filesystem path, or an
 * abstract name when it starts with '@' (the '@' becomes the leading NUL).
 * Returns 0, or -1 with errno EINVAL.
 */
int
lnt_notify_addr(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(name);

	if (n < 2 && name[0] == '@')
		n = 0;
	if (n == 0 || n >= sizeof(sun->sun_path) ||
	    (name[0] != '/' && name[0] != '@')) {
		errno = EINVAL;
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, n);
	if (name[0] == '@')
		sun->sun_path[0] = '\0';
	/* Abstract names are not NUL-terminated: the length delimits them. */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (name[0] == '/'));
	return 0;
}

/*
 * Send <state> to $NOTIFY_SOCKET.  Returns 0 when sent or when the variable
 * is unset, -1 with errno set when it could not be sent.
 */
int
lnt_notify(const char *state)
{
	struct sockaddr_un sun;
	const char *name;
	socklen_t len;
	ssize_t n;
	int fd, err;

	if ((name = getenv("NOTIFY_SOCKET")) == NULL || *name == '\0')
		return 0;
	if (lnt_notify_addr(name, &sun, &len) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	err = errno;
	close(fd);
	if (n == -1) {
		errno = err;
		return -1;
	}
	return 0;
}
