/* settings.c — typed settings (one table for flags and checkpoints), number
 * and list parsing. */
#include "ax_settings.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

enum ax_status ax_number_long(const char *s, long lo, long hi, long *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (end == s || *end)
		return ax_error_set(AX_ERR_ARG, "'%s' is not an integer", s);
	if (errno == ERANGE)
		return ax_error_set(AX_ERR_ARG, "'%s' is out of the range of an integer", s);
	if (x < lo || x > hi)
		return ax_error_set(AX_ERR_ARG, "%ld is outside [%ld, %ld]", x, lo, hi);
	*v = x;
	return AX_OK;
}

static int in_range(double x, double lo, double hi, int open)
{
	return ((open & AX_LO_OPEN) ? x > lo : x >= lo) && ((open & AX_HI_OPEN) ? x < hi : x <= hi);
}

enum ax_status ax_number_double(const char *s, double lo, double hi, int open, double *v)
{
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (end == s || *end || isnan(x))
		return ax_error_set(AX_ERR_ARG, "'%s' is not a number", s);
	/* ERANGE: overflow (inf) or underflow (0 or a denormal such as 1e-320). */
	if (errno == ERANGE || !isfinite(x))
		return ax_error_set(AX_ERR_ARG, "'%s' is out of the range of a double "
				    "(magnitude 2.3e-308 to 1.8e308, or 0)", s);
	if (!in_range(x, lo, hi, open))
		return ax_error_set(AX_ERR_ARG, "%g is outside %c%g, %g%c", x,
				    (open & AX_LO_OPEN) ? '(' : '[', lo, hi,
				    (open & AX_HI_OPEN) ? ')' : ']');
	*v = x;
	return AX_OK;
}

static enum ax_status parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (end == s || *end || errno || *s == '-')
		return ax_error_set(AX_ERR_ARG, "'%s' is not a non-negative integer", s);
	*v = x;
	return AX_OK;
}

static enum ax_status parse_choice(const struct ax_setting *s, const char *text, int *v)
{
	for (int i = 0; s->choices[i]; i++)
		if (!strcmp(text, s->choices[i])) {
			*v = i;
			return AX_OK;
		}
	char list[256] = "";
	for (int i = 0; s->choices[i]; i++) {
		strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
		strncat(list, s->choices[i], sizeof list - strlen(list) - 1);
	}
	return ax_error_set(AX_ERR_ARG, "unknown value '%s' (one of: %s)", text, list);
}

/* A range end as a long (LONG_MAX as a double rounds up past LONG_MAX). */
static long range_long(double x)
{
	return x >= 0x1p63 ? LONG_MAX : x <= -0x1p63 ? LONG_MIN : (long)x;
}

enum ax_status ax_setting_parse(const struct ax_setting *s, const char *text, void *base)
{
	char *p = (char *)base + s->offset;
	enum ax_status st;
	long l;
	double d;
	switch (s->type) {
	case AX_SET_INT:
		if (!(st = ax_number_long(text, range_long(s->lo), range_long(s->hi), &l)))
			*(int *)p = (int)l;
		return st;
	case AX_SET_LONG:
		return ax_number_long(text, range_long(s->lo), range_long(s->hi), (long *)p);
	case AX_SET_BOOL:
		if (!(st = ax_number_long(text, 0, 1, &l)))
			*(int *)p = (int)l;
		return st;
	case AX_SET_DOUBLE:
		return ax_number_double(text, s->lo, s->hi, s->open, (double *)p);
	case AX_SET_FLOAT:
		if (!(st = ax_number_double(text, s->lo, s->hi, s->open, &d)))
			*(float *)p = (float)d;
		return st;
	case AX_SET_CHOICE:
		return parse_choice(s, text, (int *)p);
	case AX_SET_U64:
		return parse_u64(text, (uint64_t *)p);
	}
	AX_ASSERT(0 && "unknown setting type");
	return AX_ERR_ARG;
}

void ax_setting_format(const struct ax_setting *s, const void *base, char *buf, size_t n)
{
	const char *p = (const char *)base + s->offset;
	switch (s->type) {
	case AX_SET_INT:
	case AX_SET_BOOL: snprintf(buf, n, "%d", *(const int *)p); return;
	case AX_SET_LONG: snprintf(buf, n, "%ld", *(const long *)p); return;
	case AX_SET_DOUBLE: snprintf(buf, n, "%.17g", *(const double *)p); return;
	case AX_SET_FLOAT: snprintf(buf, n, "%.9g", (double)*(const float *)p); return;
	case AX_SET_CHOICE: snprintf(buf, n, "%s", s->choices[*(const int *)p]); return;
	case AX_SET_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)p); return;
	}
	AX_ASSERT(0 && "unknown setting type");
}

const struct ax_setting *ax_setting_find(const struct ax_setting *table, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(table[i].key, name) || (table[i].flag && !strcmp(table[i].flag, name)))
			return &table[i];
	return NULL;
}

/* ---- lists ---- */

/* One item of a list, "x" or "a:b:step", appended to *v. */
static enum ax_status list_item(const char *item, int integer, double lo, double hi, int max,
				double **v, int *n)
{
	char buf[128];
	if (strlen(item) >= sizeof buf)
		return ax_error_set(AX_ERR_ARG, "list item too long: '%.20s...'", item);
	strcpy(buf, item);
	char *parts[3] = { buf, NULL, NULL };
	int np = 1;
	for (char *c = buf; *c; c++)
		if (*c == ':') {
			if (np == 3)
				return ax_error_set(AX_ERR_ARG, "'%s' is not a number or a:b:step", item);
			*c = 0;
			parts[np++] = c + 1;
		}
	if (np == 2)
		return ax_error_set(AX_ERR_ARG, "'%s' is not a number or a:b:step", item);
	double x[3];
	for (int i = 0; i < np; i++) {
		enum ax_status st;
		long l;
		if (integer && !(st = ax_number_long(parts[i], LONG_MIN, LONG_MAX, &l)))
			x[i] = (double)l;
		else if (!integer)
			st = ax_number_double(parts[i], -HUGE_VAL, HUGE_VAL, 0, &x[i]);
		if (st)
			return st;
	}
	if (np == 3 && !(x[2] > 0))
		return ax_error_set(AX_ERR_ARG, "'%s': the step must be positive", item);
	double last = np == 3 ? x[1] + x[2] * 1e-6 : x[0];
	for (long k = 0;; k++) {
		double val = np == 3 ? x[0] + (double)k * x[2] : x[0];
		if (val > last && np == 3)
			break;
		if (!in_range(val, lo, hi, 0))
			return ax_error_set(AX_ERR_ARG, "%g is outside [%g, %g]", val, lo, hi);
		if (*n >= max)
			return ax_error_set(AX_ERR_ARG, "more than %d values", max);
		*v = ax_xrealloc(*v, (size_t)(*n + 1) * sizeof **v);
		(*v)[(*n)++] = val;
		if (np == 1)
			break;
	}
	return AX_OK;
}

static enum ax_status list_parse(const char *s, int integer, double lo, double hi, int max,
				 double **v, int *n)
{
	*v = NULL;
	*n = 0;
	if (!*s)
		return ax_error_set(AX_ERR_ARG, "empty list");
	const char *p = s;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char item[128];
		if (len >= sizeof item) {
			free(*v), *v = NULL, *n = 0;
			return ax_error_set(AX_ERR_ARG, "list item too long in '%.20s...'", s);
		}
		memcpy(item, p, len);
		item[len] = 0;
		enum ax_status st = list_item(item, integer, lo, hi, max, v, n);
		if (st) {
			free(*v), *v = NULL, *n = 0;
			return st;
		}
		if (!comma)
			return AX_OK;
		p = comma + 1;
	}
}

enum ax_status ax_list_double(const char *s, double lo, double hi, int max, double **v, int *n)
{
	return list_parse(s, 0, lo, hi, max, v, n);
}

enum ax_status ax_list_int(const char *s, long lo, long hi, int max, int **v, int *n)
{
	double *d;
	if (lo < INT32_MIN)
		lo = INT32_MIN;
	if (hi > INT32_MAX)
		hi = INT32_MAX;
	enum ax_status st = list_parse(s, 1, (double)lo, (double)hi, max, &d, n);
	if (st) {
		*v = NULL;
		return st;
	}
	*v = ax_xmalloc((size_t)(*n ? *n : 1) * sizeof **v);
	for (int i = 0; i < *n; i++)
		(*v)[i] = (int)d[i];
	free(d);
	return AX_OK;
}
