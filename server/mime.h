/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Media types by file name extension: a built-in table of common types,
 * optionally preceded by a mime.types file read when the config is loaded.
 */
#ifndef LNT_MIME_H
#define LNT_MIME_H

#include "core.h"

#define LNT_MIME_DEFAULT	"application/octet-stream"

/*
 * Read the mime.types file at <path>: lines of "type ext ext ...", with
 * '#' starting a comment; an extension listed twice keeps its first type.
 * Returns the table (free it with lnt_mime_free()), or NULL with a
 * malloc'd message in <*err> ("/etc/mime.types:12: expected ...").  For
 * config loading only: it aborts when out of memory.
 */
lnt_mime_t	*lnt_mime_load(const char *path, char **err);

/* Free <m> (may be NULL). */
void		 lnt_mime_free(lnt_mime_t *m);

/*
 * The media type of the file <name> of <len> bytes (a path: only its last
 * component counts), found by its extension without regard to case: in
 * <m> first (may be NULL), then in the built-in table, else
 * LNT_MIME_DEFAULT.  The result is static or owned by <m>.
 */
const char	*lnt_mime_type(const lnt_mime_t *m, const char *name,
		    size_t len);

/*
 * The built-in table, sorted by extension, for tests: <*n> receives its
 * length; entries are { extension, type } pairs.
 */
const char *const (*lnt_mime_builtin(size_t *n))[2];

#endif /* LNT_MIME_H */
