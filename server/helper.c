/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The helper process: a signalfd loop that will also run periodic jobs
 * (active health checks, the disk-cache janitor).  For now it only waits
 * to be stopped and reopens the error log on USR1.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "conf.h"
#include "helper.h"
#include "log.h"

/* Handle one signal <signo>; returns true when the helper must exit. */
static bool
on_signal(int signo)
{
	switch (signo) {
	case SIGQUIT:
	case SIGTERM:
	case SIGINT:
		return true;
	case SIGUSR1:
		if (lnt_log_reopen() == -1)
			lnt_log_errno(LNT_LOG_ERR, errno,
			    "cannot reopen the error log");
		return false;
	default:
		return false;
	}
}

/* Read what <fd> (a signalfd) holds; true if one of them means exit. */
static bool
drain_signals(int fd)
{
	struct signalfd_siginfo si[8];
	bool stop = false;
	ssize_t n;

	while ((n = read(fd, si, sizeof(si))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
			stop |= on_signal((int)si[i].ssi_signo);
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		lnt_log_errno(LNT_LOG_ALERT, errno, "read(signalfd) failed");
		return true;
	}
	return stop;
}

/*
 * Run the helper for <conf> (slot <slot>, unused) until QUIT, TERM or
 * INT; see helper.h.
 */
void
lnt_helper_main(lnt_conf_t *conf, int slot)
{
	struct pollfd pfd;
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	/* The master blocked them already; say so here too, to be sure. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1) {
		lnt_log_errno(LNT_LOG_ALERT, errno, "signalfd() failed");
		exit(1);
	}
	/* It never accepts: holding the sockets would only confuse ss(8). */
	for (size_t i = 0; i < conf->nlistens; i++) {
		if (conf->listens[i].fd != -1)
			close(conf->listens[i].fd);
		conf->listens[i].fd = -1;
	}
	lnt_log(LNT_LOG_INFO, "helper started");
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
			lnt_log_errno(LNT_LOG_ALERT, errno, "poll() failed");
			exit(1);
		}
		if (drain_signals(fd))
			break;
	}
	close(fd);
	exit(0);
}
