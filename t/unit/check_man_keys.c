/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The man pages cannot fall behind the code.  Every row of the config
 * loader's key table (lnt_conf_keys) must have an `.It Ic name` entry in
 * lintel.conf(5), in the section of its scope, that states that scope, its
 * default and whether it is required; every such entry must name a key the
 * loader knows.  Every option in the usage that `lintel -h` prints, every
 * -s action and every signal the master handles must have an entry in
 * lintel(8).  Each test lists all it finds wrong before failing.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "conf_keys.h"
#include "tls_conf.h"
#include "util.h"

#define MAXDEPTH	8		/* nesting of .Bl lists */

/* One `.It` entry of a man page. */
typedef struct item {
	char	*section;	/* title of the .Sh it is under */
	char	*head;		/* the arguments of .It */
	char	*body;		/* its lines, without those of nested lists */
	int	 line;		/* line number of the .It */
} item_t;

typedef struct page {
	char	*path;
	item_t	*items;
	size_t	 n;
	char	*synopsis;	/* the lines of the SYNOPSIS section */
} page_t;

/* The signals the master acts on (DESIGN.md section 2, master.c). */
static const char *const signals[] = {
	"HUP", "QUIT", "TERM", "INT", "USR1", "USR2", "WINCH"
};

/* The sections of lintel.conf(5) that hold settings. */
static const char *const conf_sections[] = {
	"TOP-LEVEL SETTINGS", "LIMITS", "ACCESS LOG", "UPSTREAMS",
	"SITES AND ROUTES", "MODULE SETTINGS"
};

static int	nerrors;

/* Report one problem and go on, so that a run lists them all. */
static void __attribute__((format(printf, 1, 2)))
problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	nerrors++;
}

/* Append <line> and a newline to the malloc'd string <*s>. */
static void
append(char **s, const char *line)
{
	size_t len = strlen(*s);

	*s = lnt_xrealloc(*s, len + strlen(line) + 2);
	strcpy(*s + len, line);
	strcat(*s + len, "\n");
}

/* Is <line> a call of the two-letter mdoc macro <m>? */
static int
is_macro(const char *line, const char *m)
{
	return line[0] == '.' && strncmp(line + 1, m, 2) == 0 &&
	    (line[3] == ' ' || line[3] == '\0');
}

/*
 * Read man/<name> under $LNT_SRCDIR into <pg>: its `.It` entries, each with
 * the .Sh section it is in and its text at its own list depth (so that an
 * entry holding a nested list does not claim the text of that list's
 * entries), and the text of its SYNOPSIS.
 */
static void
page_load(page_t *pg, const char *name)
{
	const char *srcdir = getenv("LNT_SRCDIR");
	char *line = NULL, *section = lnt_xstrdup("");
	long open[MAXDEPTH];		/* entry open at each depth, or -1 */
	int depth = 0, lineno = 0;
	size_t cap = 0;
	ssize_t len;
	item_t *it;
	FILE *f;

	ck_assert_msg(srcdir != NULL, "LNT_SRCDIR is not set: run this "
	    "test through make check");
	memset(pg, 0, sizeof(*pg));
	pg->path = lnt_xasprintf("%s/man/%s", srcdir, name);
	pg->synopsis = lnt_xstrdup("");
	f = fopen(pg->path, "r");
	ck_assert_msg(f != NULL, "%s: %s", pg->path, strerror(errno));
	open[0] = -1;
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (is_macro(line, "Sh")) {
			free(section);
			section = lnt_xstrdup(line[3] == ' ' ? line + 4 : "");
			depth = 0;
		} else if (is_macro(line, "Bl")) {
			ck_assert_msg(depth + 1 < MAXDEPTH, "%s:%d: lists "
			    "nested too deep", pg->path, lineno);
			open[++depth] = -1;
		} else if (is_macro(line, "El")) {
			if (depth > 0)
				depth--;
		} else if (is_macro(line, "It") && depth > 0) {
			pg->items = lnt_xrealloc(pg->items,
			    (pg->n + 1) * sizeof(*pg->items));
			it = &pg->items[pg->n];
			it->section = lnt_xstrdup(section);
			it->head = lnt_xstrdup(line + 3);
			it->body = lnt_xstrdup("");
			it->line = lineno;
			open[depth] = (long)pg->n++;
		} else if (depth > 0 && open[depth] != -1)
			append(&pg->items[open[depth]].body, line);
		if (strcmp(section, "SYNOPSIS") == 0)
			append(&pg->synopsis, line);
	}
	free(line);
	free(section);
	fclose(f);
}

static void
page_free(page_t *pg)
{
	for (size_t i = 0; i < pg->n; i++) {
		free(pg->items[i].section);
		free(pg->items[i].head);
		free(pg->items[i].body);
	}
	free(pg->items);
	free(pg->synopsis);
	free(pg->path);
}

/*
 * Split <text> into words at white space, each stripped of the quotes,
 * brackets and punctuation around it ("(60s)." gives "60s"), into <out>.
 */
static void
words(const char *text, lnt_strlist_t *out)
{
	char *copy = lnt_xstrdup(text), *save = NULL, *w, *end;

	for (w = strtok_r(copy, " \t\n", &save); w != NULL;
	    w = strtok_r(NULL, " \t\n", &save)) {
		while (*w != '\0' && strchr("(\"'", *w) != NULL)
			w++;
		end = w + strlen(w);
		while (end > w && strchr(".,;:)\"'", end[-1]) != NULL)
			*--end = '\0';
		lnt_strlist_addf(out, "%s", w);
	}
	free(copy);
}

/* Does <text> hold the word <w1> followed, within <window> words, by <w2>? */
static int
word_after(const char *text, const char *w1, const char *w2, size_t window)
{
	lnt_strlist_t ws = { 0 };
	int found = 0;

	words(text, &ws);
	for (size_t i = 0; i < ws.n && !found; i++) {
		if (strcmp(ws.items[i], w1) != 0)
			continue;
		for (size_t j = i + 1; j < ws.n && j <= i + window; j++)
			if (strcmp(ws.items[j], w2) == 0)
				found = 1;
	}
	lnt_strlist_free(&ws);
	return found;
}

/* Does <text> hold the macro call "<macro> <arg>", as "Fl c" in a synopsis? */
static int
has_call(const char *text, const char *macro, const char *arg)
{
	return word_after(text, macro, arg, 1);
}

/* Is <w> the name of an mdoc macro, such as "Li" or "Ar"? */
static int
is_macro_name(const char *w)
{
	return w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'a' && w[1] <= 'z' &&
	    w[2] == '\0';
}

/*
 * The names an entry documents: the arguments of the <macro> calls that
 * open the head of the entry, up to the first other macro.  So
 * "Ic balance , Ic hash_key" gives balance and hash_key, and
 * "Ic request_headers Li = { Ic set ; }" gives only request_headers.
 */
static void
head_names(const char *head, const char *macro, lnt_strlist_t *out)
{
	lnt_strlist_t ws = { 0 };
	size_t i;

	words(head, &ws);
	for (i = 0; i < ws.n && strcmp(ws.items[i], macro) == 0; ) {
		for (i++; i < ws.n && !is_macro_name(ws.items[i]); i++)
			if (ws.items[i][0] != '\0')
				lnt_strlist_addf(out, "%s", ws.items[i]);
	}
	lnt_strlist_free(&ws);
}

/* Does the entry <it> document <name> with <macro> ("Ic", "Fl", ...)? */
static int
documents(const item_t *it, const char *macro, const char *name)
{
	lnt_strlist_t names = { 0 };
	int found = 0;

	head_names(it->head, macro, &names);
	for (size_t i = 0; i < names.n && !found; i++)
		found = strcmp(names.items[i], name) == 0;
	lnt_strlist_free(&names);
	return found;
}

/* Does <text> hold the word <w>? */
static int
has_word(const char *text, const char *w)
{
	lnt_strlist_t ws = { 0 };
	int found = 0;

	words(text, &ws);
	for (size_t i = 0; i < ws.n && !found; i++)
		found = strcmp(ws.items[i], w) == 0;
	lnt_strlist_free(&ws);
	return found;
}

/* The section of lintel.conf(5) that documents the row <key>. */
static const char *
key_section(const lnt_key_t *key)
{
	if (key->module != NULL)
		return "MODULE SETTINGS";
	if (key->flags & LNT_KEY_LIMIT)
		return "LIMITS";
	if (key->scopes & LNT_SCOPE_TOP)
		return "TOP-LEVEL SETTINGS";
	if (key->scopes & LNT_SCOPE_ACCESS_LOG)
		return "ACCESS LOG";
	if (key->scopes & (LNT_SCOPE_UPSTREAM | LNT_SCOPE_SERVER |
	    LNT_SCOPE_UPSTREAM_TLS))
		return "UPSTREAMS";
	return "SITES AND ROUTES";
}

/*
 * The scopes of every row named <key->name> that is documented in the same
 * section as <key>: one entry may describe rows that differ only by scope
 * (upstream_host in a site and in a route).
 */
static unsigned
entry_scopes(const lnt_key_t *key)
{
	const lnt_key_t *keys;
	unsigned scopes = 0;
	size_t n;

	keys = lnt_conf_keys(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, key->name) == 0 &&
		    strcmp(key_section(&keys[i]), key_section(key)) == 0)
			scopes |= keys[i].scopes;
	return scopes;
}

/*
 * The names of the scope bits <scopes> as the page writes them: "top
 * level, site" after "Scope:", or "at the top level, in a route" (<where>).
 */
static char *
scope_names(unsigned scopes, int where)
{
	char *s = lnt_xstrdup(""), *t;
	const lnt_scope_t *sc;

	for (unsigned bit = 1; bit != 0; bit <<= 1) {
		if (!(scopes & bit))
			continue;
		sc = lnt_conf_scope(bit);
		ck_assert_msg(sc != NULL, "scope bit %#x has no description",
		    bit);
		t = lnt_xasprintf("%s%s%s", s, *s != '\0' ? ", " : "",
		    where ? sc->where : sc->name);
		free(s);
		s = t;
	}
	return s;
}

/*
 * The text after "Scope: " in <body>, to the end of its sentence or to a
 * ";" ("site and route; a route's value replaces its site's").
 */
static char *
stated_scope(const char *body)
{
	const char *p = strstr(body, "Scope: "), *end;

	if (p == NULL)
		return NULL;
	p += strlen("Scope: ");
	end = p + strcspn(p, ";\n");
	if (end > p && end[-1] == '.')
		end--;
	return lnt_xstrndup(p, (size_t)(end - p));
}

/*
 * The scope bits that <stated> names, as "top level, site" or "site and
 * route"; 0 if it names anything but scopes.
 */
static unsigned
parse_scopes(const char *stated)
{
	char *copy = lnt_xstrdup(stated), *p, *next, *and;
	const lnt_scope_t *sc;
	unsigned bits = 0, bit;

	/* Make " and " a comma too, then take the comma-separated names. */
	while ((and = strstr(copy, " and ")) != NULL) {
		and[0] = ',';
		memmove(and + 1, and + 4, strlen(and + 4) + 1);
	}
	for (p = copy; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		p += strspn(p, " ");
		for (bit = 1; bit != 0; bit <<= 1)
			if ((sc = lnt_conf_scope(bit)) != NULL &&
			    strcmp(sc->name, p) == 0)
				break;
		if (bit == 0) {
			bits = 0;
			break;
		}
		bits |= bit;
	}
	free(copy);
	return bits;
}

/*
 * Is <key>'s default something the page can state whatever the build?  Not
 * when the code computes it, nor for lists, nor for the paths and user
 * that ./configure chooses (the page gives the packaged ones).
 */
static int
default_is_fixed(const lnt_key_t *key)
{
	if (key->def == NULL || (key->flags & LNT_KEY_CUSTOM_DEFAULT))
		return 0;
	if (key->type == LNT_KEY_STR_LIST || key->type == LNT_KEY_LIST ||
	    key->type == LNT_KEY_STR_OR_LIST)
		return 0;
	return strcmp(key->def, LNT_PID_PATH) != 0 &&
	    strcmp(key->def, LNT_ERROR_LOG_PATH) != 0 &&
	    strcmp(key->def, LNT_MODULE_PATH) != 0 &&
	    strcmp(key->def, LNT_DEFAULT_USER) != 0;
}

/* Check the lintel.conf(5) entry <it> of the core row <key>. */
static void
check_core_entry(const page_t *pg, const item_t *it, const lnt_key_t *key)
{
	if ((key->flags & LNT_KEY_REQUIRED) && !has_word(it->body, "Required"))
		problem("%s:%d: %s: the key is required, the entry does not "
		    "say \"Required.\"", pg->path, it->line, key->name);
	if (default_is_fixed(key) &&
	    !word_after(it->body, "Default", key->def, 3))
		problem("%s:%d: %s: the entry does not give the default, "
		    "\"Default: %s.\"", pg->path, it->line, key->name,
		    key->def);
	for (size_t v = 0; key->type == LNT_KEY_ENUM && key->values != NULL &&
	    key->values[v] != NULL; v++)
		if (!has_word(it->body, key->values[v]))
			problem("%s:%d: %s: the entry does not name the value "
			    "\"%s\"", pg->path, it->line, key->name,
			    key->values[v]);
}

/*
 * Check the MODULE SETTINGS entry <it> of the module row <key>: it names the
 * module and says where the key goes ("in a route").  Its full description
 * belongs in the module's own page.
 */
static void
check_module_entry(const page_t *pg, const item_t *it, const lnt_key_t *key)
{
	char *where = scope_names(key->scopes, 1), *save = NULL, *w;

	if (!has_word(it->body, key->module))
		problem("%s:%d: %s: the entry does not name its module, %s",
		    pg->path, it->line, key->name, key->module);
	for (w = strtok_r(where, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save)) {
		w += strspn(w, " ");
		if (strstr(it->body, w) == NULL)
			problem("%s:%d: %s: the entry does not say \"%s\"",
			    pg->path, it->line, key->name, w);
	}
	free(where);
}

/*
 * Does an entry whose "Scope:" line says <stated> describe the row <key>?
 * It must name the row's scopes, and may name those of the other rows of
 * that name in the section: one entry may serve several rows, or each its
 * own.
 */
static int
scope_fits(const char *stated, const lnt_key_t *key)
{
	unsigned bits = stated != NULL ? parse_scopes(stated) : 0;

	return bits != 0 && (key->scopes & ~bits) == 0 &&
	    (bits & ~entry_scopes(key)) == 0;
}

START_TEST(test_every_key_documented)
{
	const lnt_key_t *keys, *key;
	const item_t *it, *match;
	const char *section;
	char *want, *got;
	size_t nkeys, i, j;
	page_t pg;

	page_load(&pg, "lintel.conf.5");
	keys = lnt_conf_keys(&nkeys);
	ck_assert_uint_gt(nkeys, 0);
	nerrors = 0;
	for (i = 0; i < nkeys; i++) {
		key = &keys[i];
		section = key_section(key);
		want = scope_names(key->scopes, 0);
		match = NULL;
		got = NULL;
		/* Among the entries of that name, the one of this scope. */
		for (j = 0; j < pg.n && match == NULL; j++) {
			it = &pg.items[j];
			if (strcmp(it->section, section) != 0 ||
			    !documents(it, "Ic", key->name))
				continue;
			free(got);
			got = stated_scope(it->body);
			if (key->module != NULL || scope_fits(got, key))
				match = it;
		}
		if (match == NULL && got != NULL)
			problem("%s: %s: the entry in %s says \"Scope: %s.\", "
			    "the loader takes it in: %s", pg.path, key->name,
			    section, got, want);
		else if (match == NULL)
			problem("%s: %s (scope: %s) has no \".It Ic %s\" entry "
			    "with a \"Scope:\" line in section %s", pg.path,
			    key->name, want, key->name, section);
		else if (key->module != NULL)
			check_module_entry(&pg, match, key);
		else
			check_core_entry(&pg, match, key);
		free(want);
		free(got);
	}
	page_free(&pg);
	ck_assert_msg(nerrors == 0, "lintel.conf.5 and the key table "
	    "disagree in %d places (listed above)", nerrors);
}
END_TEST

START_TEST(test_every_entry_is_a_key)
{
	const lnt_key_t *keys;
	lnt_strlist_t names = { 0 };
	size_t nkeys, i, j, k, s;
	const item_t *it;
	int known;
	page_t pg;

	page_load(&pg, "lintel.conf.5");
	keys = lnt_conf_keys(&nkeys);
	nerrors = 0;
	for (i = 0; i < pg.n; i++) {
		it = &pg.items[i];
		for (s = 0; s < LNT_NELEM(conf_sections); s++)
			if (strcmp(it->section, conf_sections[s]) == 0)
				break;
		if (s == LNT_NELEM(conf_sections))
			continue;
		head_names(it->head, "Ic", &names);
		for (j = 0; j < names.n; j++) {
			known = 0;
			for (k = 0; k < nkeys && !known; k++)
				known = strcmp(keys[k].name,
				    names.items[j]) == 0 &&
				    strcmp(key_section(&keys[k]),
				    it->section) == 0;
			if (!known)
				problem("%s:%d: \"%s\" is documented in %s but "
				    "the loader has no such key there",
				    pg.path, it->line, names.items[j],
				    it->section);
		}
		lnt_strlist_free(&names);
	}
	page_free(&pg);
	ck_assert_msg(nerrors == 0, "lintel.conf.5 has %d entries for keys "
	    "the loader does not take (listed above)", nerrors);
}
END_TEST

/*
 * The options and -s actions that `$LINTEL -h` prints: an option is the
 * first word of an indented line ("  -c file    ..."), the actions are the
 * "|"-separated words after "[-s " in the usage line.
 */
static void
usage_options(lnt_strlist_t *opts, lnt_strlist_t *actions)
{
	const char *lintel = getenv("LINTEL");
	char *cmd, *line = NULL, *p, *save = NULL, *w;
	size_t cap = 0;
	FILE *f;

	ck_assert_msg(lintel != NULL, "LINTEL is not set: run this test "
	    "through make check");
	cmd = lnt_xasprintf("'%s' -h", lintel);
	f = popen(cmd, "r");
	ck_assert_msg(f != NULL, "%s: %s", cmd, strerror(errno));
	while (getline(&line, &cap, f) != -1) {
		if (strncmp(line, "  -", 3) == 0 && line[3] != ' ')
			lnt_strlist_addf(opts, "%c", line[3]);
		if ((p = strstr(line, "[-s ")) != NULL) {
			p = lnt_xstrndup(p + 4, strcspn(p + 4, "]"));
			for (w = strtok_r(p, "|", &save); w != NULL;
			    w = strtok_r(NULL, "|", &save))
				lnt_strlist_addf(actions, "%s", w);
			free(p);
		}
	}
	free(line);
	ck_assert_msg(pclose(f) == 0, "%s failed", cmd);
	free(cmd);
	ck_assert_msg(opts->n >= 5 && actions->n >= 1, "cannot read the "
	    "options from the usage of lintel -h");
}

/* Is there an entry of section <section> in <pg> whose head calls <m> <a>? */
static int
has_entry(const page_t *pg, const char *section, const char *m,
    const char *a)
{
	for (size_t i = 0; i < pg->n; i++)
		if (strcmp(pg->items[i].section, section) == 0 &&
		    documents(&pg->items[i], m, a))
			return 1;
	return 0;
}

START_TEST(test_every_option_documented)
{
	lnt_strlist_t opts = { 0 }, actions = { 0 };
	size_t i;
	page_t pg;

	page_load(&pg, "lintel.8");
	usage_options(&opts, &actions);
	nerrors = 0;
	for (i = 0; i < opts.n; i++) {
		if (!has_call(pg.synopsis, "Fl", opts.items[i]))
			problem("%s: option -%s is not in the SYNOPSIS",
			    pg.path, opts.items[i]);
		if (!has_entry(&pg, "DESCRIPTION", "Fl", opts.items[i]))
			problem("%s: option -%s has no \".It Fl %s\" entry in "
			    "DESCRIPTION", pg.path, opts.items[i],
			    opts.items[i]);
	}
	for (i = 0; i < actions.n; i++)
		if (!has_entry(&pg, "DESCRIPTION", "Cm", actions.items[i]))
			problem("%s: -s %s has no \".It Cm %s\" entry in "
			    "DESCRIPTION", pg.path, actions.items[i],
			    actions.items[i]);
	lnt_strlist_free(&opts);
	lnt_strlist_free(&actions);
	page_free(&pg);
	ck_assert_msg(nerrors == 0, "lintel.8 misses %d options or -s "
	    "actions (listed above)", nerrors);
}
END_TEST

START_TEST(test_every_signal_documented)
{
	page_t pg;

	page_load(&pg, "lintel.8");
	nerrors = 0;
	for (size_t i = 0; i < LNT_NELEM(signals); i++)
		if (!has_entry(&pg, "SIGNALS", "Dv", signals[i]))
			problem("%s: signal %s has no \".It Dv %s\" entry in "
			    "SIGNALS", pg.path, signals[i], signals[i]);
	page_free(&pg);
	ck_assert_msg(nerrors == 0, "lintel.8 misses %d signals (listed "
	    "above)", nerrors);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("man");
	TCase *tc = tcase_create("coverage");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_every_key_documented);
	tcase_add_test(tc, test_every_entry_is_a_key);
	tcase_add_test(tc, test_every_option_documented);
	tcase_add_test(tc, test_every_signal_documented);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
