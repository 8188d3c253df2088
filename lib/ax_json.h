/* ax_json.h — a small strict JSON tokenizer (RFC 8259 grammar, UTF-8
 * checked, no NUL in strings, nesting bounded) that builds no tree: a reader
 * walks a document whose shape it knows, taking strings and integers, and
 * skips (after validating) everything else. Plus the writer's half: a
 * growing string buffer and JSON string quoting. Internal to lib/ (the
 * safetensors header is its user); not installed.
 *
 * Errors are AX_ERR_FORMAT with a detail "<name>: bad <what> at byte N: ..."
 * where N is base + the offset in the text.
 */
#ifndef AX_JSON_H
#define AX_JSON_H

#include "ax_base.h"

#define AX_JSON_MAX_DEPTH 64

struct ax_json {
	const char *s, *p, *end;  /* text [s, end), cursor p */
	const char *name;         /* input name for messages */
	const char *what;         /* what the text is, for messages ("safetensors header") */
	size_t base;              /* input offset of s[0] */
};

/* The detail for a problem at the cursor. */
enum ax_status ax_json_err(const struct ax_json *j, const char *what);
/* Input offset of the cursor (after skipping white space). */
size_t ax_json_offset(struct ax_json *j);
/* Next non-space byte without consuming it; -1 at the end. */
int ax_json_peek(struct ax_json *j);
/* Consume c if it is next; returns whether it was. */
int ax_json_accept(struct ax_json *j, char c);
enum ax_status ax_json_expect(struct ax_json *j, char c, const char *what);
/* Consume the literal w ("true", "null", ...) if it is next. */
int ax_json_literal(struct ax_json *j, const char *w);
/* A string, unescaped into a malloc'd *out (out NULL: only validated).
 * Raw bytes must be valid UTF-8; escapes may not encode NUL or a lone surrogate. */
enum ax_status ax_json_string(struct ax_json *j, char **out);
/* A non-negative integer no larger than max. */
enum ax_status ax_json_uint(struct ax_json *j, uint64_t max, uint64_t *v);
/* Any value, validated and skipped; depth counts the enclosing levels. */
enum ax_status ax_json_skip(struct ax_json *j, int depth);

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
size_t ax_utf8_len(const unsigned char *s, size_t n);

/* ---- writing ---- */
struct ax_strbuf {
	char *p;          /* NUL-terminated; malloc'd, the caller frees */
	size_t n, cap;
};
void ax_strbuf_put(struct ax_strbuf *s, const char *t, size_t n);
void ax_strbuf_puts(struct ax_strbuf *s, const char *t);
/* t as a quoted JSON string ('"', '\\' and control characters escaped). */
void ax_strbuf_json(struct ax_strbuf *s, const char *t);

#endif
