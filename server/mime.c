/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Media types by extension.  The built-in table covers what sites commonly
 * serve; a mime.types file (Debian's media-types package installs
 * /etc/mime.types) adds the long tail and may override it.  Both are sorted
 * arrays searched by bisection, so a lookup costs no allocation.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "util.h"

#define EXT_MAX		32	/* longer "extensions" are not looked up */

typedef struct mime_entry {
	char		*ext;		/* lower case, no dot */
	const char	*type;		/* points into types[] */
	size_t		 seq;		/* order in the file: first one wins */
} mime_entry_t;

struct lnt_mime_s {
	mime_entry_t	*v;		/* sorted by ext, one per ext */
	size_t		 n;
	char		**types;	/* the distinct type strings */
	size_t		 ntypes;
};

/* Sorted by extension in byte order (checked by the unit test). */
static const char *const builtin[][2] = {
	{ "3gp", "video/3gpp" },
	{ "7z", "application/x-7z-compressed" },
	{ "aac", "audio/aac" },
	{ "apng", "image/apng" },
	{ "atom", "application/atom+xml" },
	{ "avi", "video/x-msvideo" },
	{ "avif", "image/avif" },
	{ "bin", "application/octet-stream" },
	{ "bmp", "image/bmp" },
	{ "bz2", "application/x-bzip2" },
	{ "css", "text/css" },
	{ "csv", "text/csv" },
	{ "deb", "application/vnd.debian.binary-package" },
	{ "dll", "application/octet-stream" },
	{ "dmg", "application/octet-stream" },
	{ "doc", "application/msword" },
	{ "docx",
	  "application/vnd.openxmlformats-officedocument."
	  "wordprocessingml.document" },
	{ "eot", "application/vnd.ms-fontobject" },
	{ "eps", "application/postscript" },
	{ "epub", "application/epub+zip" },
	{ "exe", "application/octet-stream" },
	{ "flac", "audio/flac" },
	{ "flv", "video/x-flv" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html" },
	{ "html", "text/html" },
	{ "ico", "image/x-icon" },
	{ "ics", "text/calendar" },
	{ "img", "application/octet-stream" },
	{ "iso", "application/x-iso9660-image" },
	{ "jar", "application/java-archive" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript" },
	{ "json", "application/json" },
	{ "jsonld", "application/ld+json" },
	{ "log", "text/plain" },
	{ "m3u8", "application/vnd.apple.mpegurl" },
	{ "m4a", "audio/mp4" },
	{ "m4v", "video/mp4" },
	{ "map", "application/json" },
	{ "md", "text/markdown" },
	{ "mid", "audio/midi" },
	{ "midi", "audio/midi" },
	{ "mjs", "text/javascript" },
	{ "mkv", "video/x-matroska" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "mpd", "application/dash+xml" },
	{ "mpeg", "video/mpeg" },
	{ "mpg", "video/mpeg" },
	{ "msi", "application/octet-stream" },
	{ "odp", "application/vnd.oasis.opendocument.presentation" },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "odt", "application/vnd.oasis.opendocument.text" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "opus", "audio/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pptx",
	  "application/vnd.openxmlformats-officedocument."
	  "presentationml.presentation" },
	{ "ps", "application/postscript" },
	{ "rar", "application/vnd.rar" },
	{ "rpm", "application/x-rpm" },
	{ "rss", "application/rss+xml" },
	{ "rtf", "application/rtf" },
	{ "shtml", "text/html" },
	{ "svg", "image/svg+xml" },
	{ "svgz", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "text", "text/plain" },
	{ "tgz", "application/gzip" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "toml", "application/toml" },
	{ "ts", "video/mp2t" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain" },
	{ "vtt", "text/vtt" },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "weba", "audio/webm" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xhtml", "application/xhtml+xml" },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx",
	  "application/vnd.openxmlformats-officedocument."
	  "spreadsheetml.sheet" },
	{ "xml", "text/xml" },
	{ "xz", "application/x-xz" },
	{ "yaml", "application/yaml" },
	{ "yml", "application/yaml" },
	{ "zip", "application/zip" },
	{ "zst", "application/zstd" },
};

/* The built-in table, its length in <*n>; static, sorted by extension. */
const char *const (*lnt_mime_builtin(size_t *n))[2]
{
	*n = LNT_NELEM(builtin);
	return builtin;
}

static int
cmp_builtin(const void *key, const void *elem)
{
	return strcmp(key, (*(const char *const (*)[2])elem)[0]);
}

static int
cmp_entry(const void *key, const void *elem)
{
	return strcmp(key, ((const mime_entry_t *)elem)->ext);
}

/*
 * The media type of <name> (<len> bytes): its last component's extension,
 * lowered, looked up in <m>, then in the built-in table.
 */
const char *
lnt_mime_type(const lnt_mime_t *m, const char *name, size_t len)
{
	char ext[EXT_MAX + 1];
	const mime_entry_t *e;
	const char *const (*b)[2];
	size_t i, dot = len;

	for (i = len; i > 0; i--) {
		if (name[i - 1] == '/')
			break;
		if (name[i - 1] == '.') {
			dot = i - 1;
			break;
		}
	}
	/* No extension, or a dot file such as ".profile": no type. */
	if (dot == len || dot == 0 || name[dot - 1] == '/' ||
	    len - dot - 1 > EXT_MAX || len - dot - 1 == 0)
		return LNT_MIME_DEFAULT;
	for (i = 0; i < len - dot - 1; i++)
		ext[i] = (char)tolower((unsigned char)name[dot + 1 + i]);
	ext[i] = '\0';
	if (m != NULL && (e = bsearch(ext, m->v, m->n, sizeof(*m->v),
	    cmp_entry)) != NULL)
		return e->type;
	b = bsearch(ext, builtin, LNT_NELEM(builtin), sizeof(builtin[0]),
	    cmp_builtin);
	return b != NULL ? (*b)[1] : LNT_MIME_DEFAULT;
}

/* RFC 6838 restricted-name characters. */
static bool
type_char(int ch)
{
	return isalnum(ch) || strchr("!#$&^_.+-", ch) != NULL;
}

/* Whether <w> is "type/subtype" made of restricted-name characters. */
static bool
valid_type(const char *w)
{
	const char *slash = strchr(w, '/'), *p;

	if (slash == NULL || slash == w || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return false;
	for (p = w; *p != '\0'; p++)
		if (p != slash && !type_char((unsigned char)*p))
			return false;
	return true;
}

static int
sort_entries(const void *a, const void *b)
{
	const mime_entry_t *x = a, *y = b;
	int d = strcmp(x->ext, y->ext);

	if (d != 0)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The interned copy of <type> in <m>. */
static const char *
intern_type(lnt_mime_t *m, const char *type)
{
	size_t i;

	for (i = m->ntypes; i > 0; i--)
		if (strcmp(m->types[i - 1], type) == 0)
			return m->types[i - 1];
	m->types = lnt_xrealloc(m->types, (m->ntypes + 1) * sizeof(char *));
	m->types[m->ntypes] = lnt_xstrdup(type);
	return m->types[m->ntypes++];
}

/* Add the extensions of one line, <save> the strtok_r state after <type>. */
static void
add_line(lnt_mime_t *m, const char *type, char **save, size_t *cap)
{
	const char *t = NULL;
	char *w, *p;

	while ((w = strtok_r(NULL, " \t\r\n", save)) != NULL) {
		if (t == NULL)
			t = intern_type(m, type);
		for (p = w; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (m->n == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			m->v = lnt_xrealloc(m->v, *cap * sizeof(*m->v));
		}
		m->v[m->n] = (mime_entry_t){ lnt_xstrdup(w), t, m->n };
		m->n++;
	}
}

/* Sort by extension and keep the first entry of each. */
static void
dedupe(lnt_mime_t *m)
{
	size_t i, k = 0;

	qsort(m->v, m->n, sizeof(*m->v), sort_entries);
	for (i = 0; i < m->n; i++) {
		if (k > 0 && strcmp(m->v[k - 1].ext, m->v[i].ext) == 0) {
			free(m->v[i].ext);
			continue;
		}
		m->v[k++] = m->v[i];
	}
	m->n = k;
}

/*
 * Parse the mime.types file <path> into a table (lnt_mime_free() frees
 * it); on failure return NULL with a malloc'd message in <*err>.
 */
lnt_mime_t *
lnt_mime_load(const char *path, char **err)
{
	lnt_mime_t *m;
	char *line = NULL, *w, *save, *hash;
	size_t cap = 0, linecap = 0, lineno = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		*err = lnt_xasprintf("cannot read '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	m = lnt_xcalloc(1, sizeof(*m));
	while (getline(&line, &linecap, f) != -1) {
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if ((w = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		if (!valid_type(w)) {
			*err = lnt_xasprintf("%s:%zu: expected a media type "
			    "such as \"text/html\" before the extensions, got "
			    "\"%.64s\"", path, lineno, w);
			goto fail;
		}
		add_line(m, w, &save, &cap);
	}
	if (ferror(f)) {
		*err = lnt_xasprintf("cannot read '%s': %s", path,
		    strerror(errno));
		goto fail;
	}
	free(line);
	fclose(f);
	dedupe(m);
	return m;
fail:
	free(line);
	fclose(f);
	lnt_mime_free(m);
	return NULL;
}

/* Free <m> and its strings; <m> may be NULL. */
void
lnt_mime_free(lnt_mime_t *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].ext);
	for (i = 0; i < m->ntypes; i++)
		free(m->types[i]);
	free(m->v);
	free(m->types);
	free(m);
}
