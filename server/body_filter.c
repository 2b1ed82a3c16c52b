/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The BODY_FILTER chain of a response.  Only the modules that asked in
 * HEADER_FILTER are in it, in hook order.  A piece fed in goes to the first
 * filter; what a filter emits goes, at once and on the same stack, to the
 * next one, and what the last one emits is copied into lintel buffers as
 * the chunks (or close-delimited bytes) the client gets.  Nothing here
 * pulls: the producer feeds one piece, then looks at lnt_bf_full() before
 * reading more, which is the back-pressure.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "body_filter.h"
#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "io.h"
#include "log.h"
#include "module.h"
#include "worker.h"

#define LNT_BF_MAGIC	0x6c6e7466u	/* "lntf" */
#define MAX_HOOKS	64		/* bits of lnt_bf_t.hooks */
#define CHUNK_RESERVE	8		/* "hhhh\r\n" before a buffer's data */
#define MAX_IOV		16
/* Output buffers above this stop the input too, whatever they hold. */
#define MAX_OUT_BUFS	8

/* A programmer error, never client input: log where, then abort. */
#define CHECK_BF(bf) do {						\
	if ((bf) == NULL || (bf)->magic != LNT_BF_MAGIC) {		\
		lnt_log(LNT_LOG_ALERT, "%s:%d: not a body filter "	\
		    "chain", __FILE__, __LINE__);			\
		abort();						\
	}								\
} while (0)

/* A buffer's data size in hex, and CRLF, fit in CHUNK_RESERVE. */
_Static_assert(LNT_BUF_SIZE < (1 << 24), "chunk size fits the reserve");

struct lnt_bf_s {
	unsigned	 magic;
	lnt_bf_t	*next;		/* free list link */
	uint64_t	 hooks;		/* bit i: BODY_FILTER hook i runs */
	size_t		 cur;		/* hook being called (when depth>0) */
	unsigned	 depth;		/* calls into the chain under way */
	bool		 active;	/* the head said so: the chain runs */
	bool		 chunked;	/* HTTP/1.1 client: chunks, else raw */
	bool		 fed_last;
	bool		 failed;	/* a filter failed: nothing more runs */
	bool		 orphan;	/* released during a call: free after */
	lnt_buf_t	*out;		/* output for the client, oldest
					   first */
	lnt_buf_t	*tail;		/* last of them */
	lnt_buf_t	*open;		/* tail while still taking data */
	size_t		 queued;	/* bytes in <out> */
	unsigned	 nout;		/* buffers in <out> */
};

static lnt_bf_t		*free_bfs;	/* per worker */

/* The response whose HEADER_FILTER runs now, and whether it has a body. */
static lnt_conn_t	*head_conn;
static bool		 head_body;

static const char	 last_chunk[] = "0\r\n\r\n";

static lnt_bf_t *
bf_get(void)
{
	lnt_bf_t *bf = free_bfs;

	if (bf != NULL)
		free_bfs = bf->next;
	else if ((bf = malloc(sizeof(*bf))) == NULL)
		return NULL;
	memset(bf, 0, sizeof(*bf));
	bf->magic = LNT_BF_MAGIC;
	return bf;
}

static void
bf_put(lnt_bf_t *bf)
{
	bf->magic = 0;
	bf->next = free_bfs;
	free_bfs = bf;
}

static void
drop_output(lnt_bf_t *bf)
{
	while (bf->out != NULL) {
		lnt_buf_t *b = bf->out;

		bf->out = b->next;
		lnt_buf_put(b);
	}
	bf->tail = bf->open = NULL;
	bf->queued = 0;
	bf->nout = 0;
}

void
lnt_bf_release(lnt_conn_t *c)
{
	lnt_bf_t *bf = c->bf;

	if (bf == NULL)
		return;
	c->bf = NULL;
	drop_output(bf);
	/* A filter that ended the request from inside the chain: the frames
	 * above it still look at <bf>, the outermost frees it. */
	if (bf->depth > 0) {
		bf->orphan = true;
		bf->failed = true;
		return;
	}
	bf_put(bf);
}

void
lnt_bf_begin_head(lnt_conn_t *c, bool has_body)
{
	/* A response made after another began (an error page after a
	 * failure) starts without the first one's chain. */
	lnt_bf_release(c);
	head_conn = c;
	head_body = has_body;
}

bool
lnt_bf_end_head(lnt_conn_t *c)
{
	if (head_conn == c)
		head_conn = NULL;
	if (c->bf == NULL)
		return false;
	c->bf->active = true;
	c->bf->chunked = c->req.version != 10;
	/* The end of the body is the end of the connection. */
	if (!c->bf->chunked)
		c->keepalive = false;
	return true;
}

bool
lnt_bf_chunked(const lnt_conn_t *c)
{
	return c->bf != NULL && c->bf->chunked;
}

/* The BODY_FILTER hook bits of module <m> in this worker's config. */
static uint64_t
module_hooks(const lnt_module_t *m)
{
	const lnt_conf_t *conf = lnt_worker_conf;
	const lnt_hooks_t *h = conf->hooks;
	uint64_t bits = 0;
	size_t i, mod;

	for (mod = 0; mod < conf->nmods; mod++)
		if (conf->mods[mod].desc == m)
			break;
	if (mod == conf->nmods || h == NULL)
		return 0;
	for (i = 0; i < h->n[LNT_PHASE_BODY_FILTER] && i < MAX_HOOKS; i++)
		if (h->v[LNT_PHASE_BODY_FILTER][i].mod == mod)
			bits |= (uint64_t)1 << i;
	return bits;
}

int
lnt_resp_filter_body(lnt_req_t *r, const lnt_module_t *m)
{
	uint64_t bits;

	/* Only from HEADER_FILTER, of a response that has a body lintel
	 * frames itself (not a 101 tunnel, not lintel's built-in page). */
	if (r != head_conn || !head_body || m == NULL)
		return -1;
	if ((bits = module_hooks(m)) == 0)
		return -1;
	if (r->bf == NULL && (r->bf = bf_get()) == NULL)
		return -1;
	r->bf->hooks |= bits;
	return 0;
}

/* A fresh output buffer at the tail of the output. */
static lnt_buf_t *
append_buffer(lnt_bf_t *bf)
{
	lnt_buf_t *b = lnt_buf_get(0);

	if (b == NULL)
		return NULL;
	b->next = NULL;
	if (bf->tail != NULL)
		bf->tail->next = b;
	else
		bf->out = b;
	bf->tail = b;
	bf->nout++;
	return b;
}

/* The buffer that takes output next, with room kept for chunk framing. */
static lnt_buf_t *
open_buffer(lnt_bf_t *bf)
{
	lnt_buf_t *b = append_buffer(bf);

	if (b == NULL)
		return NULL;
	if (bf->chunked)
		b->pos = b->last = b->start + CHUNK_RESERVE;
	bf->open = b;
	return b;
}

/* The open buffer takes no more: frame its data as one chunk. */
static void
seal(lnt_bf_t *bf)
{
	lnt_buf_t *b = bf->open;
	char size[CHUNK_RESERVE + 1];
	int n;

	if (b == NULL)
		return;
	bf->open = NULL;
	if (!bf->chunked)
		return;
	/* open_buffer() kept CHUNK_RESERVE bytes before and 2 after. */
	n = snprintf(size, sizeof(size), "%zx\r\n", lnt_buf_len(b));
	b->pos -= n;
	memcpy(b->pos, size, (size_t)n);
	memcpy(b->last, "\r\n", 2);
	b->last += 2;
	bf->queued += (size_t)n + 2;
}

/* The last filter emitted <len> bytes: queue them for the client. */
static int
output(lnt_bf_t *bf, const char *data, size_t len)
{
	while (len > 0) {
		lnt_buf_t *b = bf->open;
		size_t room, k;

		if (b == NULL || lnt_buf_room(b) <= 2) {
			seal(bf);
			if ((b = open_buffer(bf)) == NULL)
				return -1;
		}
		room = lnt_buf_room(b) - 2;	/* the chunk's CRLF */
		k = len < room ? len : room;
		memcpy(b->last, data, k);
		b->last += k;
		bf->queued += k;
		data += k;
		len -= k;
	}
	return 0;
}

/* The chunk that ends a chunked body, after the sealed data. */
static int
output_end(lnt_bf_t *bf)
{
	lnt_buf_t *b = bf->tail;

	seal(bf);
	if (!bf->chunked)
		return 0;
	if (b == NULL || lnt_buf_room(b) < sizeof(last_chunk) - 1) {
		if ((b = append_buffer(bf)) == NULL)
			return -1;
	}
	memcpy(b->last, last_chunk, sizeof(last_chunk) - 1);
	b->last += sizeof(last_chunk) - 1;
	bf->queued += sizeof(last_chunk) - 1;
	return 0;
}

static void **
filter_mconf(const lnt_conn_t *c)
{
	return c->route != NULL ? c->route->mconf :
	    c->site != NULL ? c->site->mconf : NULL;
}

/*
 * Give <len> bytes at <data> (and <last>) to the first filter of the chain
 * from hook <from> on, or to the client after the last.  -1 once the chain
 * failed.
 */
static int
run_from(lnt_conn_t *c, lnt_bf_t *bf, size_t from, const void *data,
    size_t len, bool last)
{
	const lnt_hooks_t *h = lnt_worker_conf->hooks;
	size_t n = h->n[LNT_PHASE_BODY_FILTER], i, saved;
	const lnt_hook_t *k;
	void **mconf;
	lnt_mod_rc_t rc;

	for (i = from; i < n && i < MAX_HOOKS; i++)
		if (bf->hooks & ((uint64_t)1 << i))
			break;
	if (i >= n || i >= MAX_HOOKS) {
		if (output(bf, data, len) == -1) {
			lnt_conn_log(c, LNT_LOG_ERR, "out of memory for the "
			    "filtered response body");
			bf->failed = true;
			return -1;
		}
		return 0;
	}
	k = &h->v[LNT_PHASE_BODY_FILTER][i];
	mconf = filter_mconf(c);
	saved = bf->cur;
	bf->cur = i;
	lnt_conn_hook_enter(c);
	rc = k->body(c, mconf ? mconf[k->mod] : NULL, data, len, last);
	lnt_conn_hook_leave(c);
	bf->cur = saved;
	if (bf->failed)
		return -1;
	if (rc != LNT_MOD_CONTINUE && rc != LNT_MOD_DONE) {
		lnt_conn_log(c, LNT_LOG_ERR, "body filter of module '%s' %s; "
		    "response cut short",
		    lnt_worker_conf->mods[k->mod].desc->name,
		    rc == LNT_MOD_ERROR ? "failed" :
		    rc == LNT_MOD_SUSPEND ? "suspended, which it may not" :
		    "returned an unknown code");
		bf->failed = true;
		return -1;
	}
	return last ? run_from(c, bf, i + 1, NULL, 0, true) : 0;
}

int
lnt_bf_feed(lnt_conn_t *c, const void *data, size_t len, bool last)
{
	lnt_bf_t *bf = c->bf;
	int rc;

	CHECK_BF(bf);
	if (bf->failed || bf->fed_last)
		return -1;
	if (len == 0 && !last)
		return 0;
	/* The open buffer stays open for the next pieces: lnt_bf_send()
	 * seals it when the client can take it, so small pieces share a
	 * buffer (and a chunk) instead of taking one each. */
	bf->depth++;
	rc = run_from(c, bf, 0, data, len, last);
	if (rc == 0 && last) {
		bf->fed_last = true;
		if ((rc = output_end(bf)) == -1)
			lnt_conn_log(c, LNT_LOG_ERR, "out of memory for the "
			    "filtered response body");
	}
	if (--bf->depth == 0 && bf->orphan) {
		bf_put(bf);
		return -1;
	}
	return rc;
}

bool
lnt_bf_answer_too_late(lnt_conn_t *c)
{
	if (head_conn == c) {
		/* The response being made owns the buffers the answer would
		 * free, and its head goes out after the phase. */
		lnt_conn_log(c, LNT_LOG_ERR, "a module answered in "
		    "HEADER_FILTER, which it may not; answer ignored");
		return true;
	}
	if (c->bf == NULL || c->bf->depth == 0)
		return false;
	lnt_conn_log(c, LNT_LOG_ERR, "a body filter answered a response "
	    "already under way; it is cut short instead");
	c->bf->failed = true;
	return true;
}

int
lnt_body_emit(lnt_req_t *r, const void *data, size_t len)
{
	lnt_bf_t *bf = r->bf;

	/* Only from inside a BODY_FILTER call of this response. */
	if (bf == NULL || bf->depth == 0 || bf->failed)
		return -1;
	if (len == 0)
		return 0;
	return run_from(r, bf, bf->cur + 1, data, len, false);
}

/* Move what <n> bytes written took off <head> and the output. */
static void
consume(lnt_conn_t *c, lnt_bf_t *bf, lnt_buf_t *head, size_t n)
{
	if (head != NULL && lnt_buf_len(head) > 0) {
		size_t k = n < lnt_buf_len(head) ? n : lnt_buf_len(head);

		head->pos += k;
		n -= k;
	}
	c->body_sent += (int64_t)n;
	bf->queued -= n;
	while (n > 0) {
		lnt_buf_t *b = bf->out;
		size_t k = n < lnt_buf_len(b) ? n : lnt_buf_len(b);

		b->pos += k;
		n -= k;
		if (lnt_buf_len(b) > 0)
			break;
		bf->out = b->next;
		if (bf->tail == b)
			bf->tail = NULL;
		bf->nout--;
		lnt_buf_put(b);
	}
}

int
lnt_bf_send(lnt_conn_t *c, lnt_buf_t *head, size_t *sent)
{
	lnt_bf_t *bf = c->bf;

	CHECK_BF(bf);
	for (;;) {
		struct iovec iov[MAX_IOV];
		int cnt = 0;
		ssize_t n;

		/* What the filters gave so far goes out as one chunk. */
		if (c->writable && !bf->failed)
			seal(bf);
		if (head != NULL && lnt_buf_len(head) > 0)
			iov[cnt++] = (struct iovec){ head->pos,
			    lnt_buf_len(head) };
		/* Sealed buffers only: the open one is still being filled. */
		for (lnt_buf_t *b = bf->out; b != NULL && b != bf->open &&
		    cnt < MAX_IOV; b = b->next)
			iov[cnt++] = (struct iovec){ b->pos, lnt_buf_len(b) };
		if (cnt == 0 || !c->writable)
			return 0;
		n = lnt_io_sendv(c->io, c->ev.fd, c->io_ctx, iov, cnt);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return lnt_conn_write_stopped(c, n);
		c->progress = true;
		if (sent != NULL)
			*sent += (size_t)n;
		consume(c, bf, head, (size_t)n);
	}
}

bool
lnt_bf_pending(const lnt_conn_t *c)
{
	return c->bf != NULL && c->bf->queued > 0;
}

bool
lnt_bf_full(const lnt_conn_t *c)
{
	return c->bf != NULL && (c->bf->queued > LNT_BF_HIGH ||
	    c->bf->nout > MAX_OUT_BUFS);
}

bool
lnt_bf_fed_last(const lnt_conn_t *c)
{
	return c->bf != NULL && c->bf->fed_last;
}
