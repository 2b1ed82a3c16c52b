/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Variables for modules and the access log.  Lintel's own come from the
 * access log's table (access_log.c), rendered unescaped; modules add
 * theirs from preconfig, with a getter or, without one, as names that
 * lnt_req_set_var() fills per request.  The names share one namespace: a
 * second definition is a config error, whoever makes it.
 */
#include "config.h"

#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "access_log.h"
#include "conf.h"
#include "conf_keys.h"
#include "conn.h"
#include "log.h"
#include "module.h"
#include "util.h"
#include "var.h"
#include "worker.h"

#define VAR_TEXT_MAX	4096	/* longest value of lintel's own variable */

/* A value set with lnt_req_set_var(), in the request arena. */
struct lnt_req_setvar_s {
	size_t			 idx;
	char			*value;
	size_t			 len;
	struct lnt_req_setvar_s	*next;
};

/* The module whose preconfig is running, and where it is listed. */
static struct {
	lnt_cf_t		*cf;
	size_t			 mod;
	config_setting_t	*where;
} defining;

void
lnt_var_define_begin(lnt_cf_t *cf, size_t mod, config_setting_t *where)
{
	defining.cf = cf;
	defining.mod = mod;
	defining.where = where;
}

void
lnt_var_define_end(void)
{
	defining.cf = NULL;
}

static bool
valid_name(const char *name)
{
	if (*name == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

int
lnt_var_add(lnt_cf_t *cf, const char *name, lnt_var_get_t get, void *data)
{
	lnt_conf_t *conf = lnt_conf_current(cf);
	const char *mod = lnt_conf_module(cf) ? lnt_conf_module(cf) : "?";
	long other;

	if (defining.cf != cf) {
		lnt_conf_error(cf, NULL, "%s: lnt_var_define: variable '$%s' "
		    "must be defined from preconfig", mod, name);
		return -1;
	}
	if (!valid_name(name)) {
		lnt_conf_error(cf, defining.where, "%s: variable '$%s': "
		    "expected letters, digits and '_'", mod, name);
		return -1;
	}
	if (lnt_access_var_known(name, strlen(name))) {
		lnt_conf_error(cf, defining.where, "%s: variable '$%s' is "
		    "already defined by lintel", mod, name);
		return -1;
	}
	if ((other = lnt_var_lookup(conf, name, strlen(name))) >= 0) {
		lnt_conf_error(cf, defining.where, "%s: variable '$%s' is "
		    "already defined by module '%s'", mod, name,
		    conf->mods[conf->vars[other].mod].desc->name);
		return -1;
	}
	conf->vars = lnt_xrealloc(conf->vars, (conf->nvars + 1) *
	    sizeof(*conf->vars));
	conf->vars[conf->nvars++] = (lnt_var_t){ lnt_xstrdup(name), get,
	    data, defining.mod };
	return 0;
}

long
lnt_var_lookup(const void *cv, const char *name, size_t len)
{
	const lnt_conf_t *conf = cv;

	for (size_t i = 0; i < conf->nvars; i++)
		if (strlen(conf->vars[i].name) == len &&
		    memcmp(conf->vars[i].name, name, len) == 0)
			return (long)i;
	return -1;
}

/* Module variable <idx> of the worker's config for <c>, or NULL. */
static const char *
module_value(lnt_conn_t *c, size_t idx, size_t *len)
{
	const lnt_var_t *v = &lnt_worker_conf->vars[idx];
	const char *p;

	*len = 0;
	if (v->get == NULL) {
		for (const struct lnt_req_setvar_s *s = c->setvars; s != NULL;
		    s = s->next)
			if (s->idx == idx) {
				*len = s->len;
				return s->value;
			}
		return NULL;
	}
	p = v->get(c, v->data, len);
	if (p == NULL)
		*len = 0;
	return p;
}

lnt_str_t
lnt_var_ext_value(const void *cv, size_t idx)
{
	/* The access log holds the request const; getters may allocate. */
	lnt_conn_t *c = (lnt_conn_t *)(uintptr_t)cv;
	size_t len;
	const char *p = module_value(c, idx, &len);

	return (lnt_str_t){ p, p != NULL ? len : 0 };
}

void
lnt_var_free(lnt_conf_t *conf)
{
	for (size_t i = 0; i < conf->nvars; i++)
		free(conf->vars[i].name);
	free(conf->vars);
	conf->vars = NULL;
	conf->nvars = 0;
}

/* Lintel's variable <name> for <r>, copied into the request arena. */
static const char *
core_value(lnt_conn_t *r, const char *name, size_t *len)
{
	char buf[VAR_TEXT_MAX];
	lnt_access_rec_t rec;
	ssize_t n;
	char *copy;

	lnt_conn_access_rec(r, &rec);
	n = lnt_access_var_text(&rec, name, strlen(name), buf, sizeof(buf));
	if (n <= 0 || (copy = lnt_arena_alloc(&r->arena, (size_t)n + 1)) ==
	    NULL)
		return NULL;
	memcpy(copy, buf, (size_t)n + 1);
	*len = (size_t)n;
	return copy;
}

const char *
lnt_var_get(lnt_conn_t *r, const char *name, size_t *len)
{
	size_t dummy, *lp = len != NULL ? len : &dummy;
	long idx = lnt_var_lookup(lnt_worker_conf, name, strlen(name));
	const char *p;

	*lp = 0;
	if (idx >= 0)
		p = module_value(r, (size_t)idx, lp);
	else
		p = core_value(r, name, lp);
	if (p == NULL || *lp == 0) {
		*lp = 0;
		return NULL;
	}
	return p;
}

int
lnt_var_set(lnt_conn_t *r, const char *name, const char *value, size_t len)
{
	long idx = lnt_var_lookup(lnt_worker_conf, name, strlen(name));
	struct lnt_req_setvar_s *s;
	char *copy;

	/* Only names declared settable: a template naming one compiles. */
	if (idx < 0 || lnt_worker_conf->vars[idx].get != NULL) {
		lnt_conn_log(r, LNT_LOG_ERR, "lnt_req_set_var: '$%s' is not a "
		    "variable declared with lnt_var_define(name, NULL, ...)",
		    name);
		return -1;
	}
	if ((copy = lnt_arena_alloc(&r->arena, len + 1)) == NULL)
		return -1;
	memcpy(copy, value, len);
	for (s = r->setvars; s != NULL; s = s->next)
		if (s->idx == (size_t)idx)
			break;
	if (s == NULL) {
		if ((s = lnt_arena_alloc(&r->arena, sizeof(*s))) == NULL)
			return -1;
		s->idx = (size_t)idx;
		s->next = r->setvars;
		r->setvars = s;
	}
	s->value = copy;
	s->len = len;
	return 0;
}
