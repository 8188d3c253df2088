/* json.c — the strict JSON tokenizer and string writer of ax_json.h. */
#include "ax_json.h"

#include <string.h>

enum ax_status ax_json_err(const struct ax_json *j, const char *what)
{
	return ax_error_set(AX_ERR_FORMAT, "%s: bad %s at byte %zu: %s", j->name, j->what,
			    j->base + (size_t)(j->p - j->s), what);
}

int ax_json_peek(struct ax_json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
	return j->p < j->end ? (unsigned char)*j->p : -1;
}

size_t ax_json_offset(struct ax_json *j)
{
	ax_json_peek(j);
	return j->base + (size_t)(j->p - j->s);
}

int ax_json_accept(struct ax_json *j, char c)
{
	if (ax_json_peek(j) != (unsigned char)c)
		return 0;
	j->p++;
	return 1;
}

enum ax_status ax_json_expect(struct ax_json *j, char c, const char *what)
{
	return ax_json_accept(j, c) ? AX_OK : ax_json_err(j, what);
}

int ax_json_literal(struct ax_json *j, const char *w)
{
	size_t n = strlen(w);
	if (ax_json_peek(j) < 0 || (size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return 0;
	j->p += n;
	return 1;
}

size_t ax_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3
		 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
	if (k == 0 || k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) ||   /* overlong 3-byte form */
	    (c == 0xed && s[1] >= 0xa0) ||  /* UTF-16 surrogates */
	    (c == 0xf0 && s[1] < 0x90) ||   /* overlong 4-byte form */
	    (c == 0xf4 && s[1] >= 0x90))    /* past U+10FFFF */
		return 0;
	return k;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int hex4(struct ax_json *j, unsigned *v)
{
	if (j->end - j->p < 4)
		return 0;
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)j->p[i]);
		if (h < 0)
			return 0;
		*v = *v << 4 | (unsigned)h;
	}
	j->p += 4;
	return 1;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The code point of a \u escape (the cursor just past the 'u'), a
 * surrogate pair joined; 0 with *bad set for a bad or forbidden one. */
static unsigned escape_cp(struct ax_json *j, const char **bad)
{
	unsigned cp, lo;
	if (!hex4(j, &cp))
		return *bad = "bad escape in string", 0;
	if (cp >= 0xd800 && cp < 0xdc00) {   /* high surrogate: needs its low half */
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u' ||
		    (j->p += 2, !hex4(j, &lo)) || lo < 0xdc00 || lo >= 0xe000)
			return *bad = "unpaired surrogate in string", 0;
		return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if ((cp >= 0xdc00 && cp < 0xe000) || cp == 0)
		return *bad = cp ? "unpaired surrogate in string" : "NUL in string", 0;
	return cp;
}

/* Escapes never decode longer than they are written, so the span bounds the output. */
enum ax_status ax_json_string(struct ax_json *j, char **out)
{
	if (out)
		*out = NULL;
	if (!ax_json_accept(j, '"'))
		return ax_json_err(j, "expected a string");
	const char *q = j->p;
	while (q < j->end && *q != '"')
		q += *q == '\\' && q + 1 < j->end ? 2 : 1;
	if (q >= j->end)
		return ax_json_err(j, "unterminated string");
	char *o = out ? ax_xmalloc((size_t)(q - j->p) + 1) : NULL, *w = o;
	const char *bad = NULL;
	while (!bad && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		size_t k = 0;
		char tmp[4];
		if (c < 0x20) {
			bad = "control character in string";
		} else if (c != '\\') {
			k = ax_utf8_len((const unsigned char *)j->p, (size_t)(q - j->p));
			if (!k)
				bad = "invalid UTF-8 in string";
			else if (w)
				memcpy(w, j->p, k), w += k;
			j->p += k;
		} else {
			char e = *++j->p;
			j->p++;
			const char *simple = strchr("\"\\/bfnrt", e);
			if (e && simple) {
				if (w)
					*w++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
			} else if (e != 'u') {
				bad = "bad escape in string";
			} else {
				unsigned cp = escape_cp(j, &bad);
				k = bad ? 0 : utf8_put(tmp, cp);
				if (w)
					memcpy(w, tmp, k), w += k;
			}
		}
	}
	if (bad) {
		free(o);
		return ax_json_err(j, bad);
	}
	j->p++;
	if (w)
		*w = 0;
	if (out)
		*out = o;
	return AX_OK;
}

/* A number per the JSON grammar; *is_uint says it is plain digits that fit. */
static enum ax_status number(struct ax_json *j, uint64_t *v, int *is_uint)
{
	ax_json_peek(j);
	const char *p = j->p, *e = j->end;
	int neg = p < e && *p == '-', frac = 0, overflow = 0;
	p += neg;
	if (p >= e || *p < '0' || *p > '9')
		return ax_json_err(j, "expected a number");
	uint64_t x = 0;
	if (*p == '0')
		p++;
	else
		while (p < e && *p >= '0' && *p <= '9') {
			unsigned d = (unsigned)(*p++ - '0');
			overflow |= x > (UINT64_MAX - d) / 10;
			x = x * 10 + d;
		}
	if (p < e && *p == '.') {
		frac = 1;
		if (++p >= e || *p < '0' || *p > '9')
			return j->p = p, ax_json_err(j, "digit expected after '.'");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		frac = 1;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return j->p = p, ax_json_err(j, "digit expected in exponent");
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (is_uint)
		*is_uint = !neg && !frac && !overflow;
	if (v)
		*v = x;
	j->p = p;
	return AX_OK;
}

enum ax_status ax_json_uint(struct ax_json *j, uint64_t max, uint64_t *v)
{
	const char *at = (ax_json_peek(j), j->p);
	int ok;
	enum ax_status st = number(j, v, &ok);
	if (st)
		return st;
	if (!ok || *v > max) {
		j->p = at;
		return ax_json_err(j, "expected a non-negative integer in range");
	}
	return AX_OK;
}

enum ax_status ax_json_skip(struct ax_json *j, int depth)
{
	enum ax_status st;
	if (depth > AX_JSON_MAX_DEPTH)
		return ax_json_err(j, "nesting too deep");
	int c = ax_json_peek(j);
	if (c == '"')
		return ax_json_string(j, NULL);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		j->p++;
		if (ax_json_accept(j, close))
			return AX_OK;
		do {
			if (c == '{' && ((st = ax_json_string(j, NULL)) ||
					 (st = ax_json_expect(j, ':', "expected ':'"))))
				return st;
			if ((st = ax_json_skip(j, depth + 1)))
				return st;
		} while (ax_json_accept(j, ','));
		return ax_json_expect(j, close, c == '{' ? "expected ',' or '}'"
							 : "expected ',' or ']'");
	}
	if (ax_json_literal(j, "true") || ax_json_literal(j, "false") ||
	    ax_json_literal(j, "null"))
		return AX_OK;
	return number(j, NULL, NULL);
}

/* ---- writing ---- */

void ax_strbuf_put(struct ax_strbuf *s, const char *t, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		s->cap = AX_MAX(2 * s->cap, s->n + n + 1 + 256);
		s->p = ax_xrealloc(s->p, s->cap);
	}
	memcpy(s->p + s->n, t, n);
	s->n += n;
	s->p[s->n] = 0;
}

void ax_strbuf_puts(struct ax_strbuf *s, const char *t) { ax_strbuf_put(s, t, strlen(t)); }

void ax_strbuf_json(struct ax_strbuf *s, const char *t)
{
	ax_strbuf_put(s, "\"", 1);
	for (; *t; t++) {
		unsigned char c = (unsigned char)*t;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			ax_strbuf_put(s, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			ax_strbuf_put(s, esc, 6);
		} else {
			ax_strbuf_put(s, (const char *)&c, 1);
		}
	}
	ax_strbuf_put(s, "\"", 1);
}
