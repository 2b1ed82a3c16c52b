/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Config keys that shape forwarded headers: forward_headers (which of Via,
 * X-Forwarded-* and Forwarded the proxy adds) and request_headers /
 * response_headers (set, add and remove rules), with their -T printers.
 */
#include "config.h"

#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_keys.h"
#include "util.h"

static const struct {
	const char	*word;
	unsigned	 bit;
} forward_words[] = {
	{ "via", LNT_FWD_VIA },
	{ "x-forwarded-for", LNT_FWD_XFF },
	{ "x-forwarded-proto", LNT_FWD_XFPROTO },
	{ "x-forwarded-host", LNT_FWD_XFHOST },
	{ "forwarded", LNT_FWD_FORWARDED },
};

/* Framing and hop-by-hop fields belong to lintel, never to rules. */
static const char *const reserved[] = {
	"connection", "keep-alive", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", "content-length",
};

/* The variables a rule value may use, expanded per request. */
static const char *const variables[] = {
	"remote_addr", "host", "scheme", "request_uri", "proxy_protocol_addr",
	"proxy_protocol_port",
};

static unsigned
forward_bit(const char *word)
{
	for (size_t i = 0; i < LNT_NELEM(forward_words); i++) {
		if (strcasecmp(word, forward_words[i].word) == 0)
			return forward_words[i].bit;
	}
	return 0;
}

void
lnt_conf_set_forward_headers(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	lnt_site_t *site = base;
	const char *words[LNT_NELEM(forward_words)];
	config_setting_t *e;
	unsigned bits = 0;

	for (size_t i = 0; i < LNT_NELEM(forward_words); i++)
		words[i] = forward_words[i].word;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	for (int i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		const char *w = config_setting_get_string(e);
		unsigned bit = w ? forward_bit(w) : 0;

		if (bit == 0) {
			const char *near = w ? lnt_conf_suggest(w, words,
			    LNT_NELEM(words)) : NULL;

			lnt_conf_error(cf, e, "%s: expected one of via, "
			    "x-forwarded-for, x-forwarded-proto, "
			    "x-forwarded-host, forwarded, got %s%s%s%s%s%s",
			    key->name, w ? "\"" : "a non-string",
			    w ? w : "", w ? "\"" : "",
			    near ? "; did you mean '" : "", near ? near : "",
			    near ? "'?" : "");
			continue;
		}
		bits |= bit;
	}
	site->forward_headers = bits;
	site->forward_headers_set = true;
}

void
lnt_conf_print_forward_headers(FILE *out, const lnt_key_t *key,
    const void *base, int depth)
{
	const lnt_site_t *site = base;
	unsigned bits = site->forward_headers_set ? site->forward_headers :
	    LNT_FWD_DEFAULT;
	bool first = true;

	lnt_conf_indent(out, depth);
	fprintf(out, "%s = [ ", key->name);
	for (size_t i = 0; i < LNT_NELEM(forward_words); i++) {
		if (!(bits & forward_words[i].bit))
			continue;
		fprintf(out, "%s\"%s\"", first ? "" : ", ",
		    forward_words[i].word);
		first = false;
	}
	fputs(first ? "];\n" : " ];\n", out);
}

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

/* NULL if every $name in <v> is known, else the first unknown one. */
static const char *
unknown_variable(const char *v, char *buf, size_t len)
{
	for (const char *p = strchr(v, '$'); p; p = strchr(p + 1, '$')) {
		size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
		bool known = false;

		for (size_t i = 0; i < LNT_NELEM(variables); i++)
			known |= strlen(variables[i]) == n &&
			    strncmp(p + 1, variables[i], n) == 0;
		if (!known) {
			snprintf(buf, len, "$%.*s", (int)n, p + 1);
			return buf;
		}
	}
	return NULL;
}

/* Check a value: visible characters, spaces and tabs only. */
static bool
valid_value(const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char ch = (unsigned char)*v;

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

/*
 * Parse "Name: value" (or "Name" when <remove>) from <e> into <r>;
 * reports and returns -1 on a malformed rule.
 */
static int
parse_rule(lnt_cf_t *cf, const lnt_key_t *key, const char *op,
    config_setting_t *e, lnt_hdr_rule_t *r, bool remove)
{
	const char *text = config_setting_get_string(e);
	const char *colon, *v;
	char buf[64];
	size_t name_len;

	if (text == NULL) {
		lnt_conf_error(cf, e, "%s: %s: expected a string", key->name,
		    op);
		return -1;
	}
	colon = strchr(text, ':');
	name_len = remove || colon == NULL ? strlen(text) :
	    (size_t)(colon - text);
	if (!is_token(text, name_len) || (!remove && colon == NULL)) {
		lnt_conf_error(cf, e, "%s: %s: expected %s, got \"%s\"",
		    key->name, op, remove ? "a header name" :
		    "\"Name: value\"", text);
		return -1;
	}
	for (size_t i = 0; i < LNT_NELEM(reserved); i++) {
		if (strlen(reserved[i]) == name_len &&
		    strncasecmp(text, reserved[i], name_len) == 0) {
			lnt_conf_error(cf, e, "%s: %s: %.*s is managed by "
			    "lintel and cannot be changed", key->name, op,
			    (int)name_len, text);
			return -1;
		}
	}
	if (name_len == 4 && strncasecmp(text, "host", 4) == 0) {
		lnt_conf_error(cf, e, "%s: %s: use upstream_host to change "
		    "Host", key->name, op);
		return -1;
	}
	r->name = lnt_xstrndup(text, name_len);
	r->name_len = name_len;
	r->value = NULL;
	if (remove)
		return 0;
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	if (!valid_value(v)) {
		lnt_conf_error(cf, e, "%s: %s: control character in \"%s\"",
		    key->name, op, text);
		free(r->name);
		r->name = NULL;
		return -1;
	}
	if (unknown_variable(v, buf, sizeof(buf)) != NULL) {
		lnt_conf_error(cf, e, "%s: %s: unknown variable %s (known: "
		    "$remote_addr, $host, $scheme, $request_uri, "
		    "$proxy_protocol_addr, $proxy_protocol_port)", key->name,
		    op, buf);
		free(r->name);
		r->name = NULL;
		return -1;
	}
	r->value = lnt_xstrdup(v);
	return 0;
}

static void
parse_rule_list(lnt_cf_t *cf, const lnt_key_t *key, config_setting_t *list,
    const char *op, lnt_hdr_rule_t **out, size_t *n)
{
	config_setting_t *e;
	int len;

	if (config_setting_type(list) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(list) != CONFIG_TYPE_LIST) {
		lnt_conf_error(cf, list, "%s: %s: expected a list of strings",
		    key->name, op);
		return;
	}
	len = config_setting_length(list);
	*out = lnt_xcalloc((size_t)len, sizeof(**out));
	for (int i = 0; (e = config_setting_get_elem(list, i)) != NULL; i++) {
		if (parse_rule(cf, key, op, e, &(*out)[*n],
		    strcmp(op, "remove") == 0) == 0)
			(*n)++;
	}
}

void
lnt_conf_set_header_rules(lnt_cf_t *cf, const lnt_key_t *key,
    config_setting_t *s, void *base)
{
	static const char *const ops[] = { "set", "add", "remove" };
	lnt_hdr_rules_t *r, **field = (lnt_hdr_rules_t **)((char *)base +
	    key->offset);
	config_setting_t *e;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		lnt_conf_type_error(cf, key, s);
		return;
	}
	r = lnt_xcalloc(1, sizeof(*r));
	for (int i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++) {
		const char *op = config_setting_name(e);
		const char *near;

		if (strcmp(op, "set") == 0)
			parse_rule_list(cf, key, e, op, &r->set, &r->nset);
		else if (strcmp(op, "add") == 0)
			parse_rule_list(cf, key, e, op, &r->add, &r->nadd);
		else if (strcmp(op, "remove") == 0)
			parse_rule_list(cf, key, e, op, &r->remove,
			    &r->nremove);
		else {
			near = lnt_conf_suggest(op, ops, LNT_NELEM(ops));
			lnt_conf_error(cf, e, "%s: unknown key '%s'; expected "
			    "set, add or remove%s%s%s", key->name, op,
			    near ? " (did you mean '" : "",
			    near ? near : "", near ? "'?)" : "");
		}
	}
	lnt_conf_free_header_rules(*field);
	*field = r;
}

static void
print_rules(FILE *out, const char *op, const lnt_hdr_rule_t *r, size_t n,
    int depth)
{
	char buf[2048];

	if (n == 0)
		return;
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = [ ", op);
	for (size_t i = 0; i < n; i++) {
		if (r[i].value != NULL)
			snprintf(buf, sizeof(buf), "%s: %s", r[i].name,
			    r[i].value);
		else
			snprintf(buf, sizeof(buf), "%s", r[i].name);
		lnt_conf_print_string(out, buf);
		fputs(i + 1 < n ? ", " : " ", out);
	}
	fputs("];\n", out);
}

void
lnt_conf_print_header_rules(FILE *out, const lnt_key_t *key,
    const void *base, int depth)
{
	const lnt_hdr_rules_t *r = *(lnt_hdr_rules_t *const *)
	    ((const char *)base + key->offset);

	if (r == NULL)
		return;
	lnt_conf_indent(out, depth);
	fprintf(out, "%s = {\n", key->name);
	print_rules(out, "set", r->set, r->nset, depth + 1);
	print_rules(out, "add", r->add, r->nadd, depth + 1);
	print_rules(out, "remove", r->remove, r->nremove, depth + 1);
	lnt_conf_indent(out, depth);
	fputs("};\n", out);
}

static void
free_rules(lnt_hdr_rule_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].value);
	}
	free(r);
}

void
lnt_conf_free_header_rules(lnt_hdr_rules_t *rules)
{
	if (rules == NULL)
		return;
	free_rules(rules->set, rules->nset);
	free_rules(rules->add, rules->nadd);
	free_rules(rules->remove, rules->nremove);
	free(rules);
}
