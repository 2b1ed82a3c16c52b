/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The example module: adds one response header, configured by
 * `example_header = "Name: value";` at the top level, in a site or in a
 * route (a route inherits its site's, a site the top level's).  Small on
 * purpose: copy it to start a module of your own (see lintel-modules(7)).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lintel/module.h>

typedef struct example_conf {
	char	*name;		/* NULL: not set here */
	char	*value;
	bool	 inherited;	/* name/value belong to the parent */
} example_conf_t;

static bool
is_token(const char *p, size_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || (ch && strchr(extra, ch))))
			return false;
	}
	return true;
}

/* example_header = "Name: value"; checked here, at load, never later. */
static int
parse_header(lnt_mod_cf_t *cf, const lnt_setting_t *s, unsigned scope,
    void *conf)
{
	example_conf_t *ec = conf;
	const char *text = lnt_setting_string(s), *colon, *v;

	if (text == NULL || (colon = strchr(text, ':')) == NULL ||
	    !is_token(text, (size_t)(colon - text))) {
		lnt_cf_error(cf, s, "example_header: expected \"Name: value\"");
		return -1;
	}
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			lnt_cf_error(cf, s, "example_header: control "
			    "character in the value");
			return -1;
		}
	}
	ec->name = strndup(text, (size_t)(colon - text));
	ec->value = strdup(v);
	return ec->name && ec->value ? 0 : -1;
}

static void *
create_conf(unsigned scope)
{
	return calloc(1, sizeof(example_conf_t));
}

/* A child without its own header uses its parent's (not copied). */
static void
merge_conf(const void *parent, void *child)
{
	const example_conf_t *p = parent;
	example_conf_t *c = child;

	if (c->name == NULL && p->name != NULL) {
		c->name = p->name;
		c->value = p->value;
		c->inherited = true;
	}
}

static void
free_conf(unsigned scope, void *conf)
{
	example_conf_t *ec = conf;

	if (!ec->inherited) {
		free(ec->name);
		free(ec->value);
	}
	free(ec);
}

static lnt_mod_rc_t
add_header(lnt_req_t *r, void *conf)
{
	const example_conf_t *ec = conf;

	if (ec != NULL && ec->name != NULL &&
	    lnt_resp_add_header(r, ec->name, ec->value) == -1)
		lnt_req_log(r, LNT_MOD_LOG_WARN, "example: no room for %s",
		    ec->name);
	return LNT_MOD_CONTINUE;
}

static const lnt_mod_key_t keys[] = {
	{ .name = "example_header",
	  .scopes = LNT_MOD_TOP | LNT_MOD_SITE | LNT_MOD_ROUTE,
	  .parse = parse_header, .def = "none",
	  .help = "a response header to add, \"Name: value\"" },
	{ .name = NULL }
};

static const lnt_mod_hook_t hooks[] = {
	{ .phase = LNT_PHASE_HEADER_FILTER, .handler = add_header, .order = 0 },
	{ .handler = NULL }
};

const lnt_module_t lnt_module_example = {
	.abi = LNT_MODULE_ABI,
	.size = sizeof(lnt_module_t),
	.name = "example",
	.version = "1.0",
	.keys = keys,
	.create_conf = create_conf,
	.merge_conf = merge_conf,
	.free_conf = free_conf,
	.hooks = hooks,
};
