/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The lintel command line: test the config (-t, -T), signal a running
 * master (-s), print the version (-V), or run the master.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "master.h"
#include "process.h"
#include "util.h"

static const struct {
	const char	*name;
	int		 signo;
	const char	*signame;
} signals[] = {
	{ "reload", SIGHUP, "SIGHUP" },
	{ "stop", SIGTERM, "SIGTERM" },
	{ "quit", SIGQUIT, "SIGQUIT" },
	{ "reopen", SIGUSR1, "SIGUSR1" },
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: lintel [-c file] [-t | -T] [-s reload|stop|quit|reopen] "
	    "[-f] [-V] [-h]\n"
	    "  -c file    configuration file (default %s)\n"
	    "  -t         test the configuration and exit\n"
	    "  -T         test the configuration, print it and exit\n"
	    "  -s signal  tell the running master to reload, stop (fast), "
	    "quit (gracefully)\n"
	    "             or reopen its log files\n"
	    "  -f         stay in the foreground\n"
	    "  -V         print the version and built-in paths and exit\n"
	    "  -h         print this help and exit\n", LNT_CONF_PATH);
}

static void
version(void)
{
	printf("lintel version %s\n"
	    "configuration file: %s\n"
	    "pid file: %s\n"
	    "error log: %s\n"
	    "module directory: %s\n"
	    "default user: %s\n",
	    PACKAGE_VERSION, LNT_CONF_PATH, LNT_PID_PATH, LNT_ERROR_LOG_PATH,
	    LNT_MODULE_PATH, LNT_DEFAULT_USER);
}

/*
 * Load <path>, printing every error on stderr.  Returns the config, or
 * NULL if it has errors.
 */
static lnt_conf_t *
load(const char *path)
{
	lnt_strlist_t errors = { 0 };
	lnt_conf_t *conf;

	conf = lnt_conf_load(path, &errors);
	for (size_t i = 0; i < errors.n; i++)
		fprintf(stderr, "%s\n", errors.items[i]);
	lnt_strlist_free(&errors);
	return conf;
}

/* -t and -T (<dump>): check <path>, print the verdict; the exit status. */
static int
test_config(const char *path, bool dump)
{
	lnt_conf_t *conf = load(path);

	if (conf == NULL) {
		fprintf(stderr, "lintel: configuration file %s test failed\n",
		    path);
		return 1;
	}
	if (dump) {
		lnt_conf_dump(conf, stdout);
		fflush(stdout);
	}
	lnt_conf_free(conf);
	fprintf(stderr, "lintel: configuration file %s test is successful\n",
	    path);
	return 0;
}

/* -s: send signal number <i> of signals[] to the master that <path> names. */
static int
send_signal(const char *path, size_t i)
{
	lnt_conf_t *conf = load(path);
	pid_t pid;
	int rc = 1;

	if (conf == NULL) {
		fprintf(stderr, "lintel: cannot find the pid file: "
		    "configuration file %s has errors\n", path);
		return 1;
	}
	pid = lnt_pidfile_read(conf->pid_file);
	if (pid == -1 && errno == EINVAL)
		fprintf(stderr, "lintel: pid file %s does not hold a valid "
		    "pid\n", conf->pid_file);
	else if (pid == -1)
		fprintf(stderr, "lintel: cannot read pid file %s: %s "
		    "(is lintel running?)\n", conf->pid_file, strerror(errno));
	else if (kill(pid, signals[i].signo) == -1)
		fprintf(stderr, "lintel: cannot send %s to pid %ld "
		    "(from pid file %s): %s\n", signals[i].signame, (long)pid,
		    conf->pid_file, strerror(errno));
	else
		rc = 0;
	lnt_conf_free(conf);
	return rc;
}

/* Index of <name> in signals[], or -1. */
static int
signal_index(const char *name)
{
	for (size_t i = 0; i < LNT_NELEM(signals); i++)
		if (strcmp(name, signals[i].name) == 0)
			return (int)i;
	return -1;
}

/* Parse the options of <argv> (<argc> of them) and do what they ask. */
int
main(int argc, char **argv)
{
	lnt_master_opts_t opts = { .conf_path = LNT_CONF_PATH, .argv = argv };
	bool test = false, dump = false;
	int ch, sig = -1;

	while ((ch = getopt(argc, argv, "c:tTs:fVh")) != -1) {
		switch (ch) {
		case 'c':
			opts.conf_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'T':
			test = dump = true;
			break;
		case 's':
			if ((sig = signal_index(optarg)) == -1) {
				fprintf(stderr, "lintel: unknown signal "
				    "\"%s\": expected reload, stop, quit or "
				    "reopen\n", optarg);
				return 1;
			}
			break;
		case 'f':
			opts.foreground = true;
			break;
		case 'V':
			version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lintel: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return 1;
	}
	if (test)
		return test_config(opts.conf_path, dump);
	if (sig != -1)
		return send_signal(opts.conf_path, (size_t)sig);
	return lnt_master_run(&opts);
}
