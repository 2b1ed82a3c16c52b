/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The acl module: who may use a site or a route.  `acl` rules allow or
 * deny by client address (inline, or from list files) with optional
 * method, path and header conditions; `auth_basic` asks for a user and
 * password from an htpasswd file; `limit_rate` and `limit_conn` bound each
 * client's request rate and requests in progress, in shared memory so all
 * workers agree; `trusted_proxies` says whose X-Forwarded-For to believe.
 * The decision logic lives in cidr.c, htpasswd.c and bucket.c; this file
 * reads the config and applies it to requests.  See lintel-acl(5).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pcre2.h>

#include <lintel/module.h>

#include "bucket.h"
#include "cidr.h"
#include "htpasswd.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The ACCESS handler runs before every other module's: a request that
 * the acl refuses should cost nothing more.
 */
#define ACL_ORDER		(-1000)

/* Shared zones: the default and the bounds of zone_size. */
#define ACL_ZONE_DEFAULT	(1024 * 1024)
#define ACL_ZONE_MAX		(UINT64_C(1) << 30)
#define ACL_CONN_MAX		1000000		/* limit_conn max */

/*
 * Password checks.  A verified (user, password) pair is remembered by
 * each worker for ACL_CACHE_TTL_MS, so a legitimate client costs one
 * crypt(3) computation a minute per worker instead of one per request;
 * only a keyed digest of the pair is kept, never the password.  The
 * checks the cache cannot answer are what a password guesser makes: each
 * takes a token from a bucket of ACL_AUTH_RATE per client, shared by the
 * workers, and a client whose bucket is empty gets 429 without a hash
 * being computed, so neither guessing nor burning the workers' CPU goes
 * faster than that.
 */
#define ACL_CACHE_SLOTS		64
#define ACL_CACHE_TTL_MS	60000
#define ACL_AUTH_RATE		"20r/m"
#define ACL_AUTH_BURST		20
#define ACL_AUTH_ZONE		"acl:auth"
#define ACL_AUTH_ZONE_SIZE	(256 * 1024)
/* Room for a decoded "user:password". */
#define ACL_CRED_MAX		(LNT_HTPASSWD_MAXLINE + 2)

/*
 * A limit_conn zone starts with the pids of the workers counting in it,
 * so that a worker started after one crashed can tell that counts were
 * left behind (see conn_register()).
 */
#define ACL_CONN_MAGIC		0x61636c43U	/* "aclC" */
#define ACL_CONN_PIDS		512

typedef struct conn_head {
	uint32_t	 magic;
	uint32_t	 pad;
	int32_t		 pids[ACL_CONN_PIDS];
} conn_head_t;

/* The table follows the head, 64-byte aligned. */
#define CONN_HEAD_SIZE	((sizeof(conn_head_t) + 63) & ~(size_t)63)

/* --- config structures ---------------------------------------------- */

typedef struct acl_header {
	char		*name;
	char		*exact;		/* or NULL with <re> */
	pcre2_code	*re;
} acl_header_t;

typedef struct acl_rule {
	bool		 deny;
	lnt_cidr_set_t	*clients;	/* built */
	char		**methods;	/* NULL: any */
	size_t		 nmethods;
	char		*prefix;	/* path prefix, or NULL */
	size_t		 prefix_len;
	pcre2_code	*path_re;	/* path regex, or NULL */
	acl_header_t	*headers;	/* all must match */
	size_t		 nheaders;
	char		*where;		/* "file:line" of the rule */
} acl_rule_t;

typedef struct acl_rules {
	acl_rule_t	*v;
	size_t		 n;
} acl_rules_t;

typedef struct acl_auth {
	char		*realm;
	char		*challenge;	/* the WWW-Authenticate value */
	lnt_htpasswd_t	*ht;
	lnt_zone_t	*zone;		/* attempts per client */
	lnt_bucket_t	*attempts;
	lnt_bucket_rate_t rate;
} acl_auth_t;

/* A limit_rate or a limit_conn. */
typedef struct acl_limit {
	lnt_zone_t	*zone;
	lnt_bucket_t	*bucket;	/* limit_rate */
	lnt_bucket_rate_t rate;
	conn_head_t	*head;		/* limit_conn */
	lnt_connlimit_t	*conns;
	uint32_t	 max;
	pid_t		 registered;	/* this process's pid is in <head> */
	int64_t		 reaped;	/* when this process last looked for
					   dead workers (lnt_mod_now() ms) */
	char		*where;		/* "file:line", for logs */
} acl_limit_t;

/*
 * One scope's config.  A pointer is owned when its OWN_ bit is set, else
 * borrowed from the parent by merge_conf.  <set> says which keys this
 * scope wrote, so that `acl = ();` or `auth_basic = false;` in a route
 * replaces the site's with nothing.
 */
#define OWN_ACL		0x01
#define OWN_AUTH	0x02
#define OWN_RATE	0x04
#define OWN_CONN	0x08
#define OWN_TRUSTED	0x10

typedef struct acl_conf {
	unsigned	 set;
	unsigned	 own;
	acl_rules_t	*acl;
	acl_auth_t	*auth;
	acl_limit_t	*rate;
	acl_limit_t	*conn;
	lnt_cidr_set_t	*trusted;
} acl_conf_t;

/* --- per-process state ---------------------------------------------- */

/* The worker's pid; 0 in the master, which serves no request. */
static pid_t		 acl_pid;

/* The last regex match's data: handlers never run concurrently. */
static pcre2_match_data	*acl_md;

/* X-Forwarded-For lines joined, when a request sends several. */
static char		*xff_buf;
static size_t		 xff_cap;

typedef struct cache_ent {
	uint8_t		 digest[32];
	int64_t		 expires;	/* lnt_mod_now() ms; 0: free */
} cache_ent_t;

static cache_ent_t	 acl_cache[ACL_CACHE_SLOTS];
static uint8_t		 acl_cache_key[32];

/*
 * Requests holding a limit_conn count, by request: the API gives no
 * per-request storage, so an open-addressing table keyed by the request
 * pointer says in LOG which count to give back.
 */
typedef struct inflight {
	const lnt_req_t	*r;		/* NULL: free slot */
	acl_limit_t	*lim;
	uint8_t		 key[LNT_BUCKET_KEYLEN];
} inflight_t;

static inflight_t	*infl;
static size_t		 infl_cap, infl_n;

/* The limit_conn zones this worker put its pid in, for worker_exit. */
static acl_limit_t	**regs;
static size_t		 nregs;

/*
 * Zone names are "acl:rate:FILE:LINE"; two limits on one line get ":2"
 * and so on, in file order.  The counts of the config being read are
 * here, reset by master_init, which ends every load.
 */
typedef struct line_use {
	char		*file;
	int		 line;
	int		 count;
} line_use_t;

static line_use_t	*uses;
static size_t		 nuses;

/* --- small helpers -------------------------------------------------- */

/* Edit distance of <a> and <b>, or a large number past 32 bytes. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[33], diag, up;

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = diag + (a[i - 1] != b[j - 1]);

			up = row[j];
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/*
 * Check the member names of group <g> against the <n> <known> ones,
 * reporting each unknown one with the closest known name when one is
 * within two edits; <what> names the group in messages.  Returns the
 * number of unknown members.
 */
static int
check_members(lnt_mod_cf_t *cf, const lnt_setting_t *g, const char *what,
    const char *const *known, size_t n)
{
	const lnt_setting_t *m;
	int bad = 0;

	for (int i = 0; (m = lnt_setting_elem(g, i)) != NULL; i++) {
		const char *name = lnt_setting_name(m), *near = NULL;
		size_t k, d, best = 3;

		for (k = 0; k < n && strcmp(name, known[k]) != 0; k++) {
			if ((d = distance(name, known[k])) < best) {
				best = d;
				near = known[k];
			}
		}
		if (k < n)
			continue;
		if (near != NULL)
			lnt_cf_error(cf, m, "%s: unknown key '%s' (did you "
			    "mean '%s'?)", what, name, near);
		else
			lnt_cf_error(cf, m, "%s: unknown key '%s'", what,
			    name);
		bad++;
	}
	return bad;
}

/* "file:line" of <s>, malloc'd ("-" for an unknown place). */
static char *
where_of(const lnt_setting_t *s)
{
	const char *file;
	int line = lnt_setting_line(s, &file);
	char *w;

	if (line == 0 || file == NULL)
		return strdup("-");
	if (asprintf(&w, "%s:%d", file, line) == -1)
		return NULL;
	return w;
}

/* Whether <s> of <len> bytes is an HTTP token (RFC 9110, 5.6.2). */
static bool
is_token(const char *s, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch != 0 &&
		    strchr(extra, ch) != NULL)))
			return false;
	}
	return true;
}

/*
 * Compile the regex <pattern> of setting <s>, for key <key>; NULL after
 * reporting the PCRE2 message.  JIT when the library has it: a missing
 * JIT only costs speed.
 */
static pcre2_code *
compile_re(lnt_mod_cf_t *cf, const lnt_setting_t *s, const char *key,
    const char *pattern)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	int rc;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
	    &rc, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(rc, msg, sizeof(msg));
		lnt_cf_error(cf, s, "%s: bad regular expression at offset "
		    "%zu: %s", key, (size_t)off, (const char *)msg);
		return NULL;
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/*
 * Parse a size <s> for key <key>: an integer of bytes, or a string of
 * digits with an optional k, m or g (1024-based).  0 with <*out>, or -1
 * after reporting.
 */
static int
parse_size(lnt_mod_cf_t *cf, const lnt_setting_t *s, const char *key,
    uint64_t *out)
{
	const char *v = lnt_setting_string(s), *p;
	uint64_t n = 0, mult = 1;
	int64_t i;

	if (v == NULL) {
		if (lnt_setting_int(s, &i) == -1 || i < 0) {
			lnt_cf_error(cf, s, "%s: expected a size such as "
			    "\"1m\" or a number of bytes", key);
			return -1;
		}
		*out = (uint64_t)i;
		return 0;
	}
	for (p = v; *p >= '0' && *p <= '9' && n < ACL_ZONE_MAX * 2; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (*p == 'k' || *p == 'K')
		mult = 1024;
	else if (*p == 'm' || *p == 'M')
		mult = 1024 * 1024;
	else if (*p == 'g' || *p == 'G')
		mult = 1024 * 1024 * 1024;
	if (mult > 1)
		p++;
	if (p == v || (*v < '0' || *v > '9') || *p != '\0' ||
	    n >= ACL_ZONE_MAX * 2) {
		lnt_cf_error(cf, s, "%s: expected a size such as \"1m\", "
		    "\"512k\" or a number of bytes, not \"%s\"", key, v);
		return -1;
	}
	*out = n * mult;
	return 0;
}

/* 16 random bytes for a table's hash seeds. */
static void
random_seeds(uint64_t seed[2])
{
	uint8_t *p = (uint8_t *)seed;
	size_t got = 0;

	while (got < 2 * sizeof(uint64_t)) {
		ssize_t n = getrandom(p + got, 2 * sizeof(uint64_t) - got, 0);

		if (n > 0)
			got += (size_t)n;
		else if (errno != EINTR)
			abort();	/* Linux 3.17+ never fails here */
	}
}

/* --- addresses and client lists ------------------------------------- */

/*
 * Add one entry <e> (setting <s>) of an allow, deny or trusted_proxies
 * value to <set>: "all", an address or network, or "file:PATH" whose
 * lines are loaded.  0, or -1 after reporting.
 */
static int
add_entry(lnt_mod_cf_t *cf, const lnt_setting_t *s, const char *key,
    const char *e, lnt_cidr_set_t *set)
{
	char err[512], *path;
	lnt_cidr_t cidr;
	long n;

	if (strncmp(e, "file:", 5) == 0) {
		if (e[5] == '\0') {
			lnt_cf_error(cf, s, "%s: \"file:\" needs a path", key);
			return -1;
		}
		if ((path = lnt_cf_path(cf, e + 5)) == NULL) {
			lnt_cf_error(cf, s, "%s: out of memory", key);
			return -1;
		}
		n = lnt_cidr_set_load(set, path, 0, err, sizeof(err));
		free(path);
		if (n < 0) {
			lnt_cf_error(cf, s, "%s: %s", key, err);
			return -1;
		}
		return 0;
	}
	if (lnt_cidr_parse(e, &cidr, err, sizeof(err)) == -1) {
		/* The message quotes the entry. */
		lnt_cf_error(cf, s, "%s: %s", key, err);
		return -1;
	}
	if (lnt_cidr_set_add(set, &cidr, NULL, 0, 0) == -1) {
		lnt_cf_error(cf, s, "%s: out of memory", key);
		return -1;
	}
	return 0;
}

/*
 * A client list: one string or a list of strings, each an add_entry().
 * Returns the built set, or NULL after reporting.
 */
static lnt_cidr_set_t *
parse_clients(lnt_mod_cf_t *cf, const lnt_setting_t *s, const char *key)
{
	const char *v = lnt_setting_string(s);
	lnt_cidr_set_t *set;
	int n, bad = 0;

	if (v == NULL && !lnt_setting_is_list(s)) {
		lnt_cf_error(cf, s, "%s: expected a string or a list of "
		    "strings: \"all\", addresses, networks or \"file:PATH\"",
		    key);
		return NULL;
	}
	n = v != NULL ? 1 : lnt_setting_length(s);
	if (n == 0) {
		lnt_cf_error(cf, s, "%s: an empty list matches no client",
		    key);
		return NULL;
	}
	if ((set = lnt_cidr_set_new()) == NULL) {
		lnt_cf_error(cf, s, "%s: out of memory", key);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		const lnt_setting_t *e = v != NULL ? s : lnt_setting_elem(s, i);
		const char *text = v != NULL ? v : lnt_setting_string(e);

		if (text == NULL) {
			lnt_cf_error(cf, e, "%s: expected a string", key);
			bad++;
		} else if (add_entry(cf, e, key, text, set) == -1) {
			bad++;
		}
	}
	if (bad == 0 && lnt_cidr_set_build(set) == -1) {
		lnt_cf_error(cf, s, "%s: out of memory", key);
		bad++;
	}
	if (bad > 0) {
		lnt_cidr_set_free(set);
		return NULL;
	}
	return set;
}

/* --- acl rules ------------------------------------------------------ */

static const char *const rule_keys[] = {
	"allow", "deny", "method", "path", "header"
};

static void
rule_free(acl_rule_t *rule)
{
	lnt_cidr_set_free(rule->clients);
	for (size_t i = 0; i < rule->nmethods; i++)
		free(rule->methods[i]);
	free(rule->methods);
	free(rule->prefix);
	pcre2_code_free(rule->path_re);
	for (size_t i = 0; i < rule->nheaders; i++) {
		free(rule->headers[i].name);
		free(rule->headers[i].exact);
		pcre2_code_free(rule->headers[i].re);
	}
	free(rule->headers);
	free(rule->where);
}

static void
rules_free(acl_rules_t *rules)
{
	if (rules == NULL)
		return;
	for (size_t i = 0; i < rules->n; i++)
		rule_free(&rules->v[i]);
	free(rules->v);
	free(rules);
}

/* method = "GET" or [ "GET", "HEAD" ]: 0, or -1 after reporting. */
static int
rule_methods(lnt_mod_cf_t *cf, const lnt_setting_t *s, acl_rule_t *rule)
{
	const char *v = lnt_setting_string(s);
	int n = v != NULL ? 1 : lnt_setting_length(s);

	if ((v == NULL && !lnt_setting_is_list(s)) || n == 0) {
		lnt_cf_error(cf, s, "method: expected a method or a list of "
		    "methods, such as [ \"GET\", \"HEAD\" ]");
		return -1;
	}
	if ((rule->methods = calloc((size_t)n, sizeof(char *))) == NULL) {
		lnt_cf_error(cf, s, "method: out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const lnt_setting_t *e = v != NULL ? s : lnt_setting_elem(s, i);
		const char *m = v != NULL ? v : lnt_setting_string(e);

		if (m == NULL || !is_token(m, strlen(m))) {
			lnt_cf_error(cf, e, "method: expected a method name "
			    "such as \"GET\"");
			return -1;
		}
		if ((rule->methods[i] = strdup(m)) == NULL) {
			lnt_cf_error(cf, e, "method: out of memory");
			return -1;
		}
		rule->nmethods++;
	}
	return 0;
}

/* path = "/prefix" or "~regex": 0, or -1 after reporting. */
static int
rule_path(lnt_mod_cf_t *cf, const lnt_setting_t *s, acl_rule_t *rule)
{
	const char *v = lnt_setting_string(s);

	if (v == NULL || (v[0] != '/' && v[0] != '~')) {
		lnt_cf_error(cf, s, "path: expected a prefix starting with "
		    "'/' or a regular expression after '~'");
		return -1;
	}
	if (v[0] == '~')
		return (rule->path_re = compile_re(cf, s, "path", v + 1)) ?
		    0 : -1;
	if ((rule->prefix = strdup(v)) == NULL) {
		lnt_cf_error(cf, s, "path: out of memory");
		return -1;
	}
	rule->prefix_len = strlen(v);
	return 0;
}

static const char *const header_keys[] = { "name", "match" };

/* One header = { name = "X-A"; match = "~re" or "exact"; } into <h>. */
static int
rule_header(lnt_mod_cf_t *cf, const lnt_setting_t *s, acl_header_t *h)
{
	const lnt_setting_t *name, *match;
	const char *n, *m;

	if (!lnt_setting_is_group(s)) {
		lnt_cf_error(cf, s, "header: expected a group { name = "
		    "\"...\"; match = \"...\"; } or a list of them");
		return -1;
	}
	if (check_members(cf, s, "header", header_keys,
	    NELEM(header_keys)) > 0)
		return -1;
	name = lnt_setting_member(s, "name");
	match = lnt_setting_member(s, "match");
	if (name == NULL || match == NULL) {
		lnt_cf_error(cf, s, "header: needs both name and match");
		return -1;
	}
	if ((n = lnt_setting_string(name)) == NULL ||
	    !is_token(n, strlen(n))) {
		lnt_cf_error(cf, name, "header: name: expected a field name "
		    "such as \"X-Api-Key\"");
		return -1;
	}
	if ((m = lnt_setting_string(match)) == NULL) {
		lnt_cf_error(cf, match, "header: match: expected a string, "
		    "exact or \"~regex\"");
		return -1;
	}
	if ((h->name = strdup(n)) == NULL) {
		lnt_cf_error(cf, s, "header: out of memory");
		return -1;
	}
	if (m[0] == '~')
		return (h->re = compile_re(cf, match, "header: match",
		    m + 1)) ? 0 : -1;
	if ((h->exact = strdup(m)) == NULL) {
		lnt_cf_error(cf, s, "header: out of memory");
		return -1;
	}
	return 0;
}

/* header = { ... } or ( { ... }, ... ): 0, or -1 after reporting. */
static int
rule_headers(lnt_mod_cf_t *cf, const lnt_setting_t *s, acl_rule_t *rule)
{
	bool one = lnt_setting_is_group(s);
	int n = one ? 1 : lnt_setting_length(s);

	if ((!one && !lnt_setting_is_list(s)) || n == 0) {
		lnt_cf_error(cf, s, "header: expected a group { name = "
		    "\"...\"; match = \"...\"; } or a list of them");
		return -1;
	}
	if ((rule->headers = calloc((size_t)n, sizeof(acl_header_t))) ==
	    NULL) {
		lnt_cf_error(cf, s, "header: out of memory");
		return -1;
	}
	rule->nheaders = (size_t)n;
	for (int i = 0; i < n; i++)
		if (rule_header(cf, one ? s : lnt_setting_elem(s, i),
		    &rule->headers[i]) == -1)
			return -1;
	return 0;
}

/* One rule group <g> into <rule>: 0, or -1 after reporting. */
static int
rule_read(lnt_mod_cf_t *cf, const lnt_setting_t *g, acl_rule_t *rule)
{
	const lnt_setting_t *allow, *deny, *m;
	int rc = 0;

	if (!lnt_setting_is_group(g)) {
		lnt_cf_error(cf, g, "rule: expected a group such as "
		    "{ allow = \"10.0.0.0/8\"; }");
		return -1;
	}
	if ((rule->where = where_of(g)) == NULL) {
		lnt_cf_error(cf, g, "rule: out of memory");
		return -1;
	}
	if (check_members(cf, g, "rule", rule_keys, NELEM(rule_keys)) > 0)
		rc = -1;
	allow = lnt_setting_member(g, "allow");
	deny = lnt_setting_member(g, "deny");
	if (allow != NULL && deny != NULL) {
		lnt_cf_error(cf, deny, "rule: holds both allow and deny; "
		    "split it into two rules");
		return -1;
	}
	if (allow == NULL && deny == NULL) {
		lnt_cf_error(cf, g, "rule: needs allow or deny");
		return -1;
	}
	rule->deny = deny != NULL;
	if ((rule->clients = parse_clients(cf, deny ? deny : allow,
	    deny ? "deny" : "allow")) == NULL)
		rc = -1;
	if ((m = lnt_setting_member(g, "method")) != NULL &&
	    rule_methods(cf, m, rule) == -1)
		rc = -1;
	if ((m = lnt_setting_member(g, "path")) != NULL &&
	    rule_path(cf, m, rule) == -1)
		rc = -1;
	if ((m = lnt_setting_member(g, "header")) != NULL &&
	    rule_headers(cf, m, rule) == -1)
		rc = -1;
	return rc;
}

/* acl = ( rule, ... ): every rule checked, every error reported. */
static int
parse_acl(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	acl_conf_t *ac = conf;
	acl_rules_t *rules;
	bool one = lnt_setting_is_group(s);
	int n = one ? 1 : lnt_setting_length(s), bad = 0;

	if (!one && !lnt_setting_is_list(s)) {
		lnt_cf_error(cf, s, "expected a list of rules, such as "
		    "( { allow = \"10.0.0.0/8\"; }, { deny = \"all\"; } )");
		return -1;
	}
	if ((rules = calloc(1, sizeof(*rules))) == NULL ||
	    (n > 0 && (rules->v = calloc((size_t)n, sizeof(acl_rule_t))) ==
	    NULL)) {
		free(rules);
		lnt_cf_error(cf, s, "out of memory");
		return -1;
	}
	rules->n = (size_t)n;
	for (int i = 0; i < n; i++)
		if (rule_read(cf, one ? s : lnt_setting_elem(s, i),
		    &rules->v[i]) == -1)
			bad++;
	if (bad > 0) {
		rules_free(rules);
		return -1;
	}
	ac->acl = rules;
	ac->set |= OWN_ACL;
	ac->own |= OWN_ACL;
	return 0;
}

/* --- shared zones --------------------------------------------------- */

/*
 * The name of the zone for setting <s> of kind <kind> ("rate", "conn"):
 * "acl:KIND:FILE:LINE", with ":N" for the Nth such setting of the line,
 * so that it is the same on every load of an unchanged file.  malloc'd.
 */
static char *
zone_name(const lnt_setting_t *s, const char *kind)
{
	const char *file;
	int line = lnt_setting_line(s, &file), count = 0;
	line_use_t *u;
	char *name;

	if (file == NULL)
		file = "-";
	for (size_t i = 0; i < nuses; i++) {
		if (uses[i].line == line && strcmp(uses[i].file, file) == 0) {
			count = ++uses[i].count;
			break;
		}
	}
	if (count == 0) {
		if ((u = realloc(uses, (nuses + 1) * sizeof(*uses))) == NULL)
			return NULL;
		uses = u;
		uses[nuses] = (line_use_t){ strdup(file), line, 1 };
		if (uses[nuses].file == NULL)
			return NULL;
		nuses++;
		count = 1;
	}
	if ((count > 1 ? asprintf(&name, "acl:%s:%s:%d:%d", kind, file,
	    line, count) : asprintf(&name, "acl:%s:%s:%d", kind, file,
	    line)) == -1)
		return NULL;
	return name;
}

/*
 * The rate table in <zone> of <size> bytes: kept as it is when the zone
 * comes from the config before (a reload), laid out afresh when new.
 * The lock keeps the workers of a running config out meanwhile.
 */
static lnt_bucket_t *
rate_table(lnt_zone_t *zone, size_t size)
{
	void *mem = lnt_zone_data(zone);
	lnt_bucket_t *t;
	uint64_t seed[2];

	lnt_zone_lock(zone);
	if ((t = lnt_bucket_attach(mem, size)) == NULL) {
		random_seeds(seed);
		t = lnt_bucket_init(mem, size, seed[0], seed[1]);
	}
	lnt_zone_unlock(zone);
	return t;
}

/* The same for a limit_conn zone: the pid head, then the table. */
static lnt_connlimit_t *
conn_table(lnt_zone_t *zone, size_t size, conn_head_t **headp)
{
	conn_head_t *head = lnt_zone_data(zone);
	void *mem = (char *)head + CONN_HEAD_SIZE;
	lnt_connlimit_t *t = NULL;
	uint64_t seed[2];

	lnt_zone_lock(zone);
	if (head->magic == ACL_CONN_MAGIC)
		t = lnt_connlimit_attach(mem, size - CONN_HEAD_SIZE);
	if (t == NULL) {
		memset(head, 0, sizeof(*head));
		random_seeds(seed);
		if ((t = lnt_connlimit_init(mem, size - CONN_HEAD_SIZE,
		    seed[0], seed[1])) != NULL)
			head->magic = ACL_CONN_MAGIC;
	}
	lnt_zone_unlock(zone);
	*headp = head;
	return t;
}

static void
limit_free(acl_limit_t *lim)
{
	if (lim == NULL)
		return;
	free(lim->where);
	free(lim);
}

static const char *const rate_keys[] = { "rate", "burst", "zone_size" };
static const char *const conn_keys[] = { "max", "zone_size" };

/*
 * limit_rate = { rate = "10r/s"; burst = 20; zone_size = "1m"; } or
 * limit_conn = { max = 10; zone_size = "1m"; }, or false for none.
 */
static int
parse_limit(lnt_mod_cf_t *cf, const lnt_setting_t *s, acl_conf_t *ac,
    bool conn)
{
	const char *key = conn ? "limit_conn" : "limit_rate", *v;
	const lnt_setting_t *m;
	uint64_t size = ACL_ZONE_DEFAULT, min;
	acl_limit_t *lim;
	char err[256], *name;
	int64_t i;
	bool b;
	int bad = 0;

	if (lnt_setting_bool(s, &b) == 0 && !b) {
		ac->set |= conn ? OWN_CONN : OWN_RATE;
		return 0;
	}
	if (!lnt_setting_is_group(s)) {
		lnt_cf_error(cf, s, "%s: expected a group %s, or false", key,
		    conn ? "{ max = N; }" : "{ rate = \"10r/s\"; burst = N; }");
		return -1;
	}
	if (check_members(cf, s, key, conn ? conn_keys : rate_keys,
	    conn ? NELEM(conn_keys) : NELEM(rate_keys)) > 0)
		bad++;
	if ((lim = calloc(1, sizeof(*lim))) == NULL ||
	    (lim->where = where_of(s)) == NULL) {
		limit_free(lim);
		lnt_cf_error(cf, s, "%s: out of memory", key);
		return -1;
	}
	lim->rate.burst = 1;
	if (conn && (m = lnt_setting_member(s, "max")) == NULL) {
		lnt_cf_error(cf, s, "%s: needs max, the requests a client may "
		    "have in progress", key);
		bad++;
	} else if (conn && (lnt_setting_int(m, &i) == -1 || i < 1 ||
	    i > ACL_CONN_MAX)) {
		lnt_cf_error(cf, m, "%s: max: expected an integer from 1 to "
		    "%d", key, ACL_CONN_MAX);
		bad++;
	} else if (conn) {
		lim->max = (uint32_t)i;
	}
	if (!conn && (m = lnt_setting_member(s, "rate")) == NULL) {
		lnt_cf_error(cf, s, "%s: needs rate, such as \"10r/s\"", key);
		bad++;
	} else if (!conn && (v = lnt_setting_string(m)) == NULL) {
		lnt_cf_error(cf, m, "%s: rate: expected a string such as "
		    "\"10r/s\", \"30r/m\" or \"0.5r/s\"", key);
		bad++;
	} else if (!conn && lnt_bucket_parse_rate(v, &lim->rate.per_ms, err,
	    sizeof(err)) == -1) {
		lnt_cf_error(cf, m, "%s: rate: %s", key, err);
		bad++;
	}
	if (!conn && (m = lnt_setting_member(s, "burst")) != NULL) {
		if (lnt_setting_int(m, &i) == -1 || i < 1 ||
		    i > LNT_BUCKET_MAX_BURST) {
			lnt_cf_error(cf, m, "%s: burst: expected an integer "
			    "from 1 to %u", key, LNT_BUCKET_MAX_BURST);
			bad++;
		} else {
			lim->rate.burst = (uint32_t)i;
		}
	}
	min = lnt_bucket_size(LNT_BUCKET_WINDOW) + (conn ? CONN_HEAD_SIZE : 0);
	if ((m = lnt_setting_member(s, "zone_size")) != NULL) {
		if (parse_size(cf, m, conn ? "limit_conn: zone_size" :
		    "limit_rate: zone_size", &size) == -1) {
			bad++;
		} else if (size < min || size > ACL_ZONE_MAX) {
			lnt_cf_error(cf, m, "%s: zone_size: expected from "
			    "%" PRIu64 " bytes to 1g", key, min);
			bad++;
		}
	}
	if (bad > 0) {
		limit_free(lim);
		return -1;
	}
	if ((name = zone_name(s, conn ? "conn" : "rate")) == NULL) {
		limit_free(lim);
		lnt_cf_error(cf, s, "%s: out of memory", key);
		return -1;
	}
	/* lnt_zone_get() reported its failure already. */
	lim->zone = lnt_zone_get(cf, name, (size_t)size);
	free(name);
	if (lim->zone == NULL) {
		limit_free(lim);
		return -1;
	}
	if (conn)
		lim->conns = conn_table(lim->zone, (size_t)size, &lim->head);
	else
		lim->bucket = rate_table(lim->zone, (size_t)size);
	if (conn ? lim->conns == NULL : lim->bucket == NULL) {
		lnt_cf_error(cf, s, "%s: cannot lay out the zone", key);
		limit_free(lim);
		return -1;
	}
	if (conn) {
		ac->conn = lim;
		ac->set |= OWN_CONN;
		ac->own |= OWN_CONN;
	} else {
		ac->rate = lim;
		ac->set |= OWN_RATE;
		ac->own |= OWN_RATE;
	}
	return 0;
}

static int
parse_limit_rate(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	return parse_limit(cf, s, conf, false);
}

static int
parse_limit_conn(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	return parse_limit(cf, s, conf, true);
}

/* --- auth_basic and trusted_proxies --------------------------------- */

static void
auth_free(acl_auth_t *auth)
{
	if (auth == NULL)
		return;
	free(auth->realm);
	free(auth->challenge);
	lnt_htpasswd_free(auth->ht);
	free(auth);
}

static const char *const auth_keys[] = { "realm", "file" };

/* auth_basic = { realm = "..."; file = "/etc/lintel/htpasswd"; } */
static int
parse_auth(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	acl_conf_t *ac = conf;
	const lnt_setting_t *realm, *file;
	const char *rv = NULL, *fv = NULL;
	acl_auth_t *auth;
	char err[512], *path;
	uint64_t seed[2];
	bool b;
	int bad = 0;

	if (lnt_setting_bool(s, &b) == 0 && !b) {
		ac->set |= OWN_AUTH;
		return 0;
	}
	if (!lnt_setting_is_group(s)) {
		lnt_cf_error(cf, s, "auth_basic: expected a group { realm = "
		    "\"...\"; file = \"...\"; }, or false");
		return -1;
	}
	if (check_members(cf, s, "auth_basic", auth_keys,
	    NELEM(auth_keys)) > 0)
		bad++;
	if ((realm = lnt_setting_member(s, "realm")) == NULL ||
	    (rv = lnt_setting_string(realm)) == NULL) {
		lnt_cf_error(cf, realm ? realm : s, "auth_basic: needs realm, "
		    "a string naming the protected area");
		bad++;
	} else if (strpbrk(rv, "\"\\") != NULL) {
		lnt_cf_error(cf, realm, "auth_basic: realm: no '\"' or '\\' "
		    "please: browsers differ on escapes");
		bad++;
	} else {
		for (const char *p = rv; *p; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				lnt_cf_error(cf, realm, "auth_basic: realm: "
				    "control character");
				bad++;
				break;
			}
		}
	}
	if ((file = lnt_setting_member(s, "file")) == NULL ||
	    (fv = lnt_setting_string(file)) == NULL || *fv == '\0') {
		lnt_cf_error(cf, file ? file : s, "auth_basic: needs file, "
		    "the path of an htpasswd file");
		bad++;
	}
	if (bad > 0)
		return -1;
	if ((auth = calloc(1, sizeof(*auth))) == NULL ||
	    (auth->realm = strdup(rv)) == NULL ||
	    asprintf(&path, "Basic realm=\"%s\", charset=\"UTF-8\"",
	    rv) == -1) {
		auth_free(auth);
		lnt_cf_error(cf, s, "auth_basic: out of memory");
		return -1;
	}
	auth->challenge = path;
	if ((path = lnt_cf_path(cf, fv)) == NULL) {
		auth_free(auth);
		lnt_cf_error(cf, s, "auth_basic: out of memory");
		return -1;
	}
	auth->ht = lnt_htpasswd_load(path, err, sizeof(err));
	free(path);
	if (auth->ht == NULL) {
		lnt_cf_error(cf, file, "auth_basic: %s", err);
		auth_free(auth);
		return -1;
	}
	/* One zone for every realm: it counts a client's guesses. */
	if ((auth->zone = lnt_zone_get(cf, ACL_AUTH_ZONE,
	    ACL_AUTH_ZONE_SIZE)) == NULL) {
		auth_free(auth);
		return -1;
	}
	lnt_zone_lock(auth->zone);
	if ((auth->attempts = lnt_bucket_attach(lnt_zone_data(auth->zone),
	    ACL_AUTH_ZONE_SIZE)) == NULL) {
		random_seeds(seed);
		auth->attempts = lnt_bucket_init(lnt_zone_data(auth->zone),
		    ACL_AUTH_ZONE_SIZE, seed[0], seed[1]);
	}
	lnt_zone_unlock(auth->zone);
	if (lnt_bucket_parse_rate(ACL_AUTH_RATE, &auth->rate.per_ms, err,
	    sizeof(err)) == -1 || auth->attempts == NULL) {
		lnt_cf_error(cf, s, "auth_basic: cannot set up the attempt "
		    "limit");
		auth_free(auth);
		return -1;
	}
	auth->rate.burst = ACL_AUTH_BURST;
	ac->auth = auth;
	ac->set |= OWN_AUTH;
	ac->own |= OWN_AUTH;
	return 0;
}

/* trusted_proxies = [ "10.0.0.0/8", "file:/etc/lintel/proxies" ]; */
static int
parse_trusted(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	acl_conf_t *ac = conf;

	if ((ac->trusted = parse_clients(cf, s, "trusted_proxies")) == NULL)
		return -1;
	ac->set |= OWN_TRUSTED;
	ac->own |= OWN_TRUSTED;
	return 0;
}

/* --- config lifecycle ----------------------------------------------- */

static void *
create_conf(unsigned scope)
{
	/* Upstreams have none of our keys. */
	return scope == LNT_MOD_UPSTREAM ? NULL : calloc(1,
	    sizeof(acl_conf_t));
}

/*
 * What a child did not write it takes from its parent: a route's acl,
 * auth_basic and limits replace its site's, they do not add to them.
 */
static void
merge_conf(const void *parent, void *child)
{
	const acl_conf_t *p = parent;
	acl_conf_t *c = child;

	if (!(c->set & OWN_ACL))
		c->acl = p->acl;
	if (!(c->set & OWN_AUTH))
		c->auth = p->auth;
	if (!(c->set & OWN_RATE))
		c->rate = p->rate;
	if (!(c->set & OWN_CONN))
		c->conn = p->conn;
	if (!(c->set & OWN_TRUSTED))
		c->trusted = p->trusted;
}

static void
free_conf(unsigned scope, void *conf)
{
	acl_conf_t *ac = conf;

	if (ac->own & OWN_ACL)
		rules_free(ac->acl);
	if (ac->own & OWN_AUTH)
		auth_free(ac->auth);
	if (ac->own & OWN_RATE)
		limit_free(ac->rate);
	if (ac->own & OWN_CONN)
		limit_free(ac->conn);
	if (ac->own & OWN_TRUSTED)
		lnt_cidr_set_free(ac->trusted);
	free(ac);
}

/* Every load ends here: the next one numbers its lines afresh. */
static int
master_init(lnt_mod_cf_t *cf)
{
	for (size_t i = 0; i < nuses; i++)
		free(uses[i].file);
	free(uses);
	uses = NULL;
	nuses = 0;
	return 0;
}

/* --- requests in progress (limit_conn) ------------------------------ */

static size_t
infl_slot(const lnt_req_t *r)
{
	uint64_t h = (uint64_t)(uintptr_t)r * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 32) & (infl_cap - 1);
}

/* The slot of <r>, or NULL. */
static inflight_t *
infl_find(const lnt_req_t *r)
{
	if (infl_n == 0)
		return NULL;
	for (size_t i = infl_slot(r); infl[i].r != NULL;
	    i = (i + 1) & (infl_cap - 1))
		if (infl[i].r == r)
			return &infl[i];
	return NULL;
}

/* Remove slot <e>, moving back the entries its removal would hide. */
static void
infl_remove(inflight_t *e)
{
	size_t hole = (size_t)(e - infl), i = hole, want;

	infl[hole].r = NULL;
	infl_n--;
	for (;;) {
		i = (i + 1) & (infl_cap - 1);
		if (infl[i].r == NULL)
			return;
		want = infl_slot(infl[i].r);
		/* Move it if its home is not in (hole, i], cyclically. */
		if ((i > hole && (want <= hole || want > i)) ||
		    (i < hole && want <= hole && want > i)) {
			infl[hole] = infl[i];
			infl[i].r = NULL;
			hole = i;
		}
	}
}

/* Record <e>; -1 when out of memory. */
static int
infl_add(const inflight_t *e)
{
	size_t i;

	if ((infl_n + 1) * 2 > infl_cap) {
		size_t ncap = infl_cap ? infl_cap * 2 : 64, ocap = infl_cap;
		inflight_t *old = infl, *n = calloc(ncap, sizeof(*n));

		if (n == NULL)
			return -1;
		infl = n;
		infl_cap = ncap;
		infl_n = 0;
		for (i = 0; i < ocap; i++)
			if (old[i].r != NULL)
				(void)infl_add(&old[i]);
		free(old);
	}
	for (i = infl_slot(e->r); infl[i].r != NULL;
	    i = (i + 1) & (infl_cap - 1))
		;
	infl[i] = *e;
	infl_n++;
	return 0;
}

/* Give back the count <e> holds, and forget it. */
static void
infl_release(inflight_t *e)
{
	acl_limit_t *lim = e->lim;

	lnt_zone_lock(lim->zone);
	lnt_connlimit_release(lim->conns, e->key);
	lnt_zone_unlock(lim->zone);
	infl_remove(e);
}

/*
 * A worker that exits takes its pid out of the zones it counted in, so a
 * pid left in <lim>'s zone whose process is gone is a worker that died
 * (crashed, or killed at shutdown_timeout) with requests counted: its
 * counts would never come back and would lock its clients out for good,
 * so every count of the zone is forgotten, as bucket.h advises.  Counts
 * of live workers are then too low for as long as their requests last.
 * True if that happened.  Called with the zone locked.
 */
static bool
conn_reap(acl_limit_t *lim)
{
	conn_head_t *h = lim->head;
	bool dead = false;

	lim->reaped = lnt_mod_now();
	for (int i = 0; i < ACL_CONN_PIDS; i++) {
		if (h->pids[i] != 0 && kill((pid_t)h->pids[i], 0) == -1 &&
		    errno == ESRCH) {
			dead = true;
			h->pids[i] = 0;
		}
	}
	if (dead) {
		lnt_connlimit_reset(lim->conns);
		lnt_mod_log(LNT_MOD_LOG_WARN, "acl: limit_conn at %s: a "
		    "worker died with requests counted; counting afresh",
		    lim->where);
	}
	return dead;
}

/*
 * Before this worker first counts in <lim>'s zone: forget what dead
 * workers left, then put this worker's pid there.  Zone locked.
 */
static void
conn_register(acl_limit_t *lim)
{
	conn_head_t *h = lim->head;
	acl_limit_t **nr;
	int free_slot = -1;

	lim->registered = acl_pid;
	(void)conn_reap(lim);
	for (int i = 0; i < ACL_CONN_PIDS && free_slot == -1; i++)
		if (h->pids[i] == 0)
			free_slot = i;
	if (free_slot == -1) {
		lnt_mod_log(LNT_MOD_LOG_WARN, "acl: limit_conn at %s: more "
		    "than %d workers count in the zone; a crash of this one "
		    "would go unnoticed", lim->where, ACL_CONN_PIDS);
		return;
	}
	h->pids[free_slot] = (int32_t)acl_pid;
	if ((nr = realloc(regs, (nregs + 1) * sizeof(*regs))) != NULL) {
		regs = nr;
		regs[nregs++] = lim;
	}
}

/* --- request checks ------------------------------------------------- */

/*
 * The client of <r>: its peer address, or with <trusted> the address the
 * trusted proxies name: a trusted peer's PROXY protocol header first, then
 * X-Forwarded-For, every line of it, as long as the address in hand is a
 * trusted proxy.  Into <ip>; <peer> gets the peer.
 */
static void
client_of(lnt_req_t *r, const lnt_cidr_set_t *trusted, lnt_ip_t *ip,
    lnt_ip_t *peer)
{
	const char *addr = lnt_req_peer_addr(r), *v, *first = NULL;
	size_t len, flen = 0, total = 0;
	lnt_ip_t from;
	unsigned n;

	/* Not an IP peer (never, over TCP): "::", which only "all" holds. */
	if (addr == NULL || lnt_ip_parse(addr, strlen(addr), peer) == -1)
		memset(peer, 0, sizeof(*peer));
	*ip = *peer;
	if (trusted == NULL || !lnt_cidr_set_lookup(trusted, peer, NULL))
		return;
	/* A trusted balancer's PROXY header names the client it carries,
	 * one hop nearer than any X-Forwarded-For entry. */
	from = *peer;
	addr = lnt_req_proxy_protocol_addr(r);
	if (addr != NULL && lnt_ip_parse(addr, strlen(addr), &from) == 0) {
		*ip = from;
		if (!lnt_cidr_set_lookup(trusted, &from, NULL))
			return;
	}
	for (n = 0; (v = lnt_req_header_nth(r, "X-Forwarded-For", n, &len));
	    n++) {
		if (n == 0) {
			first = v;
			flen = len;
		}
		total += len + 1;
	}
	if (n > 1) {
		/* Lines join with commas, in order (RFC 9110, 5.3). */
		if (total > xff_cap) {
			char *nb = realloc(xff_buf, total);

			if (nb == NULL)
				return;		/* the peer, then */
			xff_buf = nb;
			xff_cap = total;
		}
		flen = 0;
		for (unsigned i = 0; i < n; i++) {
			v = lnt_req_header_nth(r, "X-Forwarded-For", i, &len);
			if (i > 0)
				xff_buf[flen++] = ',';
			memcpy(xff_buf + flen, v, len);
			flen += len;
		}
		first = xff_buf;
	}
	(void)lnt_cidr_real_client(trusted, &from, first, flen, ip);
}

/* Whether <re> matches the <len> bytes at <s>; -1 on a match error. */
static int
re_match(const pcre2_code *re, const char *s, size_t len)
{
	int rc;

	if (acl_md == NULL &&
	    (acl_md = pcre2_match_data_create(1, NULL)) == NULL)
		return -1;
	rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, acl_md, NULL);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/*
 * Whether <rule> applies to <r> from <ip>: 1, 0, or -1 when a regex
 * could not run (a refusal, then: a rule that cannot be checked must not
 * let through what it was meant to stop).  <m> gets the client entry.
 */
static int
rule_matches(lnt_req_t *r, const acl_rule_t *rule, const lnt_ip_t *ip,
    lnt_cidr_match_t *m)
{
	const char *v;
	size_t len, i;
	int rc;

	if (!lnt_cidr_set_lookup(rule->clients, ip, m))
		return 0;
	if (rule->nmethods > 0) {
		v = lnt_req_method(r, &len);
		for (i = 0; i < rule->nmethods; i++)
			if (strlen(rule->methods[i]) == len &&
			    memcmp(rule->methods[i], v, len) == 0)
				break;
		if (i == rule->nmethods)
			return 0;
	}
	if (rule->prefix != NULL || rule->path_re != NULL) {
		v = lnt_req_path(r, &len);
		if (v == NULL)
			return 0;
		if (rule->prefix != NULL && (len < rule->prefix_len ||
		    memcmp(v, rule->prefix, rule->prefix_len) != 0))
			return 0;
		if (rule->path_re != NULL &&
		    (rc = re_match(rule->path_re, v, len)) != 1)
			return rc;
	}
	for (i = 0; i < rule->nheaders; i++) {
		const acl_header_t *h = &rule->headers[i];

		if ((v = lnt_req_header(r, h->name, &len)) == NULL)
			return 0;
		if (h->exact != NULL && (strlen(h->exact) != len ||
		    memcmp(h->exact, v, len) != 0))
			return 0;
		if (h->re != NULL && (rc = re_match(h->re, v, len)) != 1)
			return rc;
	}
	return 1;
}

/* " (client A via a trusted proxy)" when <ip> is not <peer>, else "". */
static const char *
via(const lnt_ip_t *ip, const lnt_ip_t *peer, char *buf, size_t size)
{
	char a[LNT_IP_STRLEN];

	if (memcmp(ip->b, peer->b, sizeof(ip->b)) == 0)
		return "";
	snprintf(buf, size, " (client %s via a trusted proxy)",
	    lnt_ip_format(ip, a, sizeof(a)));
	return buf;
}

/* Seconds a client should wait, from <ms>: rounded up, at least 1. */
static void
retry_after(lnt_req_t *r, uint64_t ms)
{
	char v[24];

	snprintf(v, sizeof(v), "%" PRIu64, ms / 1000 + (ms % 1000 != 0) +
	    (ms == 0));
	if (lnt_resp_add_header(r, "Retry-After", v) == -1)
		lnt_req_log(r, LNT_MOD_LOG_WARN, "acl: no room for "
		    "Retry-After");
}

/* The acl rules; CONTINUE when no rule denies. */
static lnt_mod_rc_t
check_rules(lnt_req_t *r, const acl_rules_t *rules, const lnt_ip_t *ip,
    const char *who)
{
	char net[LNT_CIDR_STRLEN];
	lnt_cidr_match_t m;

	for (size_t i = 0; i < rules->n; i++) {
		const acl_rule_t *rule = &rules->v[i];
		int rc = rule_matches(r, rule, ip, &m);

		if (rc == -1) {
			lnt_req_fail(r, 500, "acl: the rule at %s: a regular "
			    "expression failed to run%s", rule->where, who);
			return LNT_MOD_ERROR;
		}
		if (rc == 0)
			continue;
		if (!rule->deny)
			return LNT_MOD_CONTINUE;
		if (m.cidr.plen == 0)
			snprintf(net, sizeof(net), "all");
		else
			lnt_cidr_format(&m.cidr, net, sizeof(net));
		if (m.origin != NULL)
			lnt_req_fail(r, 403, "acl: denied by the rule at %s "
			    "(%s, %s:%u)%s", rule->where, net, m.origin,
			    m.line, who);
		else
			lnt_req_fail(r, 403, "acl: denied by the rule at %s "
			    "(%s)%s", rule->where, net, who);
		return LNT_MOD_ERROR;
	}
	/* No rule matched: allowed, as the man page says. */
	return LNT_MOD_CONTINUE;
}

/* limit_rate: one token for this request, or 429/503. */
static lnt_mod_rc_t
check_rate(lnt_req_t *r, acl_limit_t *lim, const lnt_ip_t *ip,
    const char *who)
{
	uint64_t retry = 0;
	lnt_bucket_rc_t rc;

	lnt_zone_lock(lim->zone);
	rc = lnt_bucket_take(lim->bucket, &lim->rate, ip->b,
	    (uint64_t)lnt_mod_now(), &retry);
	lnt_zone_unlock(lim->zone);
	if (rc == LNT_BUCKET_OK)
		return LNT_MOD_CONTINUE;
	retry_after(r, retry);
	if (rc == LNT_BUCKET_FULL)
		lnt_req_fail(r, 503, "acl: limit_rate at %s: its zone is full "
		    "of limited clients; grow zone_size%s", lim->where, who);
	else
		lnt_req_fail(r, 429, "acl: limit_rate at %s: over the rate%s",
		    lim->where, who);
	return LNT_MOD_ERROR;
}

/* The cache's digest of (<ht>, <user>, <pass>) into <d>; -1 on failure. */
static int
cred_digest(const lnt_htpasswd_t *ht, const char *user, const char *pass,
    uint8_t d[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned len = 0;
	int ok;

	if (ctx == NULL)
		return -1;
	/* The table's address tells the realms' files apart. */
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, acl_cache_key, sizeof(acl_cache_key)) &&
	    EVP_DigestUpdate(ctx, &ht, sizeof(ht)) &&
	    EVP_DigestUpdate(ctx, user, strlen(user) + 1) &&
	    EVP_DigestUpdate(ctx, pass, strlen(pass)) &&
	    EVP_DigestFinal_ex(ctx, d, &len);
	EVP_MD_CTX_free(ctx);
	return ok && len == 32 ? 0 : -1;
}

/* Whether digest <d> was verified less than a TTL ago. */
static bool
cache_hit(const uint8_t d[32], int64_t now)
{
	for (size_t i = 0; i < ACL_CACHE_SLOTS; i++)
		if (acl_cache[i].expires > now &&
		    CRYPTO_memcmp(acl_cache[i].digest, d, 32) == 0)
			return true;
	return false;
}

/* Remember <d>, in place of the entry that expires first. */
static void
cache_put(const uint8_t d[32], int64_t now)
{
	size_t victim = 0;

	for (size_t i = 1; i < ACL_CACHE_SLOTS; i++)
		if (acl_cache[i].expires < acl_cache[victim].expires)
			victim = i;
	memcpy(acl_cache[victim].digest, d, 32);
	acl_cache[victim].expires = now + ACL_CACHE_TTL_MS;
}

/* 401 with the challenge, logging <why>. */
static lnt_mod_rc_t
challenge(lnt_req_t *r, const acl_auth_t *auth, const char *why,
    const char *user, const char *who)
{
	if (lnt_resp_add_header(r, "WWW-Authenticate", auth->challenge) == -1)
		lnt_req_log(r, LNT_MOD_LOG_WARN, "acl: no room for "
		    "WWW-Authenticate");
	lnt_req_fail(r, 401, "acl: auth_basic \"%s\": %s%s%s%s%s",
	    auth->realm, why, user ? " \"" : "", user ? user : "",
	    user ? "\"" : "", who);
	return LNT_MOD_ERROR;
}

/* auth_basic: valid credentials, or 401 (429 for a guesser). */
static lnt_mod_rc_t
check_auth(lnt_req_t *r, acl_auth_t *auth, const lnt_ip_t *ip,
    const char *who)
{
	char buf[ACL_CRED_MAX];
	const char *v, *user, *pass;
	int64_t now = lnt_mod_now();
	uint64_t retry = 0;
	uint8_t d[32];
	lnt_bucket_rc_t brc;
	lnt_mod_rc_t rc;
	size_t len;
	bool digested;

	if ((v = lnt_req_header(r, "Authorization", &len)) == NULL)
		return challenge(r, auth, "no credentials", NULL, who);
	if (lnt_htpasswd_parse_basic(v, len, buf, sizeof(buf), &user,
	    &pass) == -1) {
		explicit_bzero(buf, sizeof(buf));
		return challenge(r, auth, "no Basic credentials", NULL, who);
	}
	digested = cred_digest(auth->ht, user, pass, d) == 0;
	if (digested && cache_hit(d, now)) {
		explicit_bzero(buf, sizeof(buf));
		return LNT_MOD_CONTINUE;
	}
	lnt_zone_lock(auth->zone);
	brc = lnt_bucket_take(auth->attempts, &auth->rate, ip->b,
	    (uint64_t)now, &retry);
	lnt_zone_unlock(auth->zone);
	if (brc != LNT_BUCKET_OK) {
		explicit_bzero(buf, sizeof(buf));
		retry_after(r, retry);
		if (brc == LNT_BUCKET_FULL)
			lnt_req_fail(r, 503, "acl: auth_basic \"%s\": the zone "
			    "counting password checks is full%s", auth->realm,
			    who);
		else
			lnt_req_fail(r, 429, "acl: auth_basic \"%s\": more than "
			    "%s password checks%s", auth->realm, ACL_AUTH_RATE,
			    who);
		return LNT_MOD_ERROR;
	}
	if (lnt_htpasswd_verify(auth->ht, user, pass)) {
		/* Without a digest (out of memory) the next one hashes. */
		if (digested)
			cache_put(d, now);
		rc = LNT_MOD_CONTINUE;
	} else {
		rc = challenge(r, auth, "wrong password or unknown user",
		    user, who);
	}
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(d, sizeof(d));
	return rc;
}

/* limit_conn: count this request until LOG, or 503. */
static lnt_mod_rc_t
check_conn(lnt_req_t *r, acl_limit_t *lim, const lnt_ip_t *ip,
    const char *who)
{
	inflight_t e = { .r = r, .lim = lim };
	lnt_bucket_rc_t rc;

	memcpy(e.key, ip->b, sizeof(e.key));
	lnt_zone_lock(lim->zone);
	if (lim->registered != acl_pid)
		conn_register(lim);
	rc = lnt_connlimit_acquire(lim->conns, e.key, lim->max);
	/* Before refusing, once a second: are these counts real? */
	if (rc == LNT_BUCKET_LIMITED && lnt_mod_now() - lim->reaped >= 1000 &&
	    conn_reap(lim))
		rc = lnt_connlimit_acquire(lim->conns, e.key, lim->max);
	lnt_zone_unlock(lim->zone);
	if (rc == LNT_BUCKET_LIMITED) {
		lnt_req_fail(r, 503, "acl: limit_conn at %s: %u requests in "
		    "progress already%s", lim->where, lim->max, who);
		return LNT_MOD_ERROR;
	}
	if (rc == LNT_BUCKET_FULL) {
		lnt_req_fail(r, 503, "acl: limit_conn at %s: its zone is full; "
		    "grow zone_size%s", lim->where, who);
		return LNT_MOD_ERROR;
	}
	if (infl_add(&e) == -1) {
		/* Untracked, it could never be given back: let it be. */
		lnt_zone_lock(lim->zone);
		lnt_connlimit_release(lim->conns, e.key);
		lnt_zone_unlock(lim->zone);
		lnt_req_log(r, LNT_MOD_LOG_WARN, "acl: limit_conn at %s: out "
		    "of memory; the request is not counted", lim->where);
	}
	return LNT_MOD_CONTINUE;
}

/*
 * ACCESS: the acl rules first (a denied client costs nothing more), then
 * limit_rate (password guesses count too), auth_basic, and limit_conn
 * last, so that a request refused by the others holds no count.
 */
static lnt_mod_rc_t
access_handler(lnt_req_t *r, void *conf)
{
	acl_conf_t *ac = conf;
	char whobuf[LNT_IP_STRLEN + 40];
	const char *who;
	lnt_ip_t ip, peer;
	lnt_mod_rc_t rc;

	if (ac == NULL || (ac->acl == NULL && ac->auth == NULL &&
	    ac->rate == NULL && ac->conn == NULL))
		return LNT_MOD_CONTINUE;
	client_of(r, ac->trusted, &ip, &peer);
	who = via(&ip, &peer, whobuf, sizeof(whobuf));
	if (ac->acl != NULL &&
	    (rc = check_rules(r, ac->acl, &ip, who)) != LNT_MOD_CONTINUE)
		return rc;
	if (ac->rate != NULL &&
	    (rc = check_rate(r, ac->rate, &ip, who)) != LNT_MOD_CONTINUE)
		return rc;
	if (ac->auth != NULL &&
	    (rc = check_auth(r, ac->auth, &ip, who)) != LNT_MOD_CONTINUE)
		return rc;
	if (ac->conn != NULL)
		return check_conn(r, ac->conn, &ip, who);
	return LNT_MOD_CONTINUE;
}

/*
 * POST_READ: a request starts on <r>, so whatever an earlier request on
 * the same connection object still holds is stale.  The core skips LOG
 * for a request whose error answer could not be written, and this gives
 * that count back when the object serves again.
 */
static lnt_mod_rc_t
start_handler(lnt_req_t *r, void *conf)
{
	inflight_t *e = infl_find(r);

	if (e != NULL)
		infl_release(e);
	return LNT_MOD_CONTINUE;
}

/* LOG: the request ended; give back its limit_conn count. */
static lnt_mod_rc_t
log_handler(lnt_req_t *r, void *conf)
{
	inflight_t *e = infl_find(r);

	if (e != NULL)
		infl_release(e);
	return LNT_MOD_CONTINUE;
}

/* --- worker lifecycle ----------------------------------------------- */

static int
worker_init(void)
{
	uint64_t k[2];

	acl_pid = getpid();
	for (size_t i = 0; i < sizeof(acl_cache_key); i += sizeof(k)) {
		random_seeds(k);
		memcpy(acl_cache_key + i, k, sizeof(k));
	}
	explicit_bzero(k, sizeof(k));
	return 0;
}

/*
 * Give back the counts of requests still in progress (a fast stop), and
 * take this worker's pid out of the zones it counted in: it did not
 * crash.
 */
static void
worker_exit(void)
{
	for (size_t i = 0; infl != NULL && i < infl_cap; i++) {
		if (infl[i].r != NULL) {
			acl_limit_t *lim = infl[i].lim;

			lnt_zone_lock(lim->zone);
			lnt_connlimit_release(lim->conns, infl[i].key);
			lnt_zone_unlock(lim->zone);
		}
	}
	free(infl);
	infl = NULL;
	infl_cap = infl_n = 0;
	for (size_t i = 0; i < nregs; i++) {
		conn_head_t *h = regs[i]->head;

		lnt_zone_lock(regs[i]->zone);
		for (int j = 0; j < ACL_CONN_PIDS; j++)
			if (h->pids[j] == (int32_t)acl_pid)
				h->pids[j] = 0;
		lnt_zone_unlock(regs[i]->zone);
	}
	free(regs);
	regs = NULL;
	nregs = 0;
	pcre2_match_data_free(acl_md);
	acl_md = NULL;
	free(xff_buf);
	xff_buf = NULL;
	xff_cap = 0;
	explicit_bzero(acl_cache, sizeof(acl_cache));
}

static const lnt_mod_key_t keys[] = {
	{ .name = "acl", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_acl, .def = "none",
	  .help = "allow and deny rules by client address, method, path "
	  "and header; the first that matches decides" },
	{ .name = "auth_basic", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_auth, .def = "none",
	  .help = "{ realm; file; }: HTTP basic authentication from an "
	  "htpasswd file" },
	{ .name = "limit_rate", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_limit_rate, .def = "none",
	  .help = "{ rate; burst; zone_size; }: requests per client, a "
	  "token bucket shared by the workers" },
	{ .name = "limit_conn", .scopes = LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_limit_conn, .def = "none",
	  .help = "{ max; zone_size; }: requests a client may have in "
	  "progress" },
	{ .name = "trusted_proxies", .scopes = LNT_MOD_TOP | LNT_MOD_SITE,
	  .parse = parse_trusted, .def = "none",
	  .help = "proxies whose X-Forwarded-For names the client" },
	{ .name = NULL }
};

static const lnt_mod_hook_t hooks[] = {
	{ .phase = LNT_PHASE_POST_READ, .handler = start_handler,
	  .order = ACL_ORDER },
	{ .phase = LNT_PHASE_ACCESS, .handler = access_handler,
	  .order = ACL_ORDER },
	{ .phase = LNT_PHASE_LOG, .handler = log_handler, .order = ACL_ORDER },
	{ .handler = NULL }
};

const lnt_module_t lnt_module_acl = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = "acl",
	.version = "1.0",
	.keys = keys,
	.create_conf = create_conf,
	.merge_conf = merge_conf,
	.free_conf = free_conf,
	.master_init = master_init,
	.worker_init = worker_init,
	.worker_exit = worker_exit,
	.hooks = hooks,
};
