/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Variables: lintel's own (the access log's table, access_log.c), those
 * modules define from preconfig, and those a module sets per request.
 * One namespace for lnt_req_var(), lnt_req_set_var() and access_log
 * templates.
 */
#ifndef LNT_VAR_H
#define LNT_VAR_H

#include "core.h"
#include "lintel/module.h"

struct config_setting_t;

/* A variable a module defined, kept by the config that loaded it. */
typedef struct lnt_var_s {
	char		*name;
	lnt_var_get_t	 get;		/* NULL: set per request */
	void		*data;
	size_t		 mod;		/* index in conf->mods */
} lnt_var_t;

/*
 * Module <mod> of the config <cf> loads (listed at <where>) is in its
 * preconfig: lnt_var_define() records its variables until the end call.
 */
void		lnt_var_define_begin(struct lnt_cf_s *cf, size_t mod,
		    struct config_setting_t *where);
void		lnt_var_define_end(void);

/*
 * lnt_var_define() for <cf>: -1, reported at the module's entry in the
 * modules list, outside preconfig or when the name is taken.
 */
int		lnt_var_add(struct lnt_cf_s *cf, const char *name,
		    lnt_var_get_t get, void *data);

/* lnt_req_var() and lnt_req_set_var() for request <c>. */
const char	*lnt_var_get(lnt_conn_t *c, const char *name, size_t *len);
int		lnt_var_set(lnt_conn_t *c, const char *name, const char *value,
		    size_t len);

/* The index in <conf> (a const lnt_conf_t *) of module variable <name>,
 * <len> bytes, or -1: the access log's lookup. */
long		lnt_var_lookup(const void *conf, const char *name, size_t len);

/* The value of module variable <idx> for request <c> (an lnt_conn_t *),
 * or an empty slice: the access log's ext callback. */
lnt_str_t	lnt_var_ext_value(const void *c, size_t idx);

/* Free the variables of <conf>. */
void		lnt_var_free(lnt_conf_t *conf);

#endif /* LNT_VAR_H */
