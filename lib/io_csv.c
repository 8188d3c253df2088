/* io_csv.c — CSV metrics out (ax_csv_*), CSV tables in (ax_table_*). */
#include "ax_io.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

/* ---- writer ---- */

void ax_csv_begin(struct ax_csv *c, FILE *f, const char *header)
{
	c->f = f;
	c->ncols = 1;
	for (const char *p = header; *p; p++)
		c->ncols += *p == ',';
	fprintf(f, "%s\n", header);
	fflush(f);
}

void ax_csv_row(struct ax_csv *c, const double *values)
{
	for (int i = 0; i < c->ncols; i++)
		fprintf(c->f, "%s%.9g", i ? "," : "", values[i]);
	fputc('\n', c->f);
	fflush(c->f);
}

void ax_csv_rowf(struct ax_csv *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(c->f, fmt, ap);
	va_end(ap);
	fputc('\n', c->f);
	fflush(c->f);
}

/* ---- reader ----
 * Cells are unquoted in place: the write cursor never passes the read
 * cursor (a field's text shrinks or stays, and its terminating NUL takes
 * the place of the delimiter already read), so the input buffer becomes the
 * cell storage and names[0] points at its start. */

static int at_eol(const char *p, const char *end)
{
	return p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'));
}

enum ax_status ax_table_read(struct ax_reader *r, struct ax_table *t)
{
	memset(t, 0, sizeof *t);
	const char *path = ax_reader_name(r);
	char *buf;
	size_t len;
	enum ax_status st = ax_reader_read_rest(r, &buf, &len);
	if (st)
		return st;
	const char *p = buf, *end = buf + len;
	char *w = buf;
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		p += 3;   /* UTF-8 byte order mark, as spreadsheets write it */
	long line = 1;
	char **row = NULL;   /* the record being read */
	size_t nrow = 0, caprow = 0, ncells = 0, capcells = 0;
	while (p < end) {
		if (at_eol(p, end)) {   /* blank line */
			p += *p == '\r' ? 2 : 1;
			line++;
			continue;
		}
		long rec_line = line;
		nrow = 0;
		for (;;) {   /* one field per pass */
			char *start = w;
			if (*p == '"') {
				p++;
				for (;;) {
					if (p >= end) {
						st = ax_error_set(AX_ERR_FORMAT, "%s: line %ld: "
								  "unterminated quoted field", path,
								  rec_line);
						goto fail;
					}
					if (*p == '"' && !(p + 1 < end && p[1] == '"'))
						break;
					line += *p == '\n';
					*w++ = *p;
					p += *p == '"' ? 2 : 1;
				}
				p++;
				if (p < end && *p != ',' && !at_eol(p, end)) {
					st = ax_error_set(AX_ERR_FORMAT, "%s: line %ld: text after a "
							  "closing quote", path, line);
					goto fail;
				}
			} else {
				while (p < end && *p != ',' && !at_eol(p, end))
					*w++ = *p++;
			}
			int more = p < end && *p == ',';
			if (p < end)
				p += *p == '\r' ? 2 : 1;
			*w++ = 0;
			if (nrow == caprow) {
				caprow = caprow ? 2 * caprow : 16;
				row = ax_xrealloc(row, caprow * sizeof *row);
			}
			row[nrow++] = start;
			if (!more)
				break;
		}
		line++;
		if (!t->names) {
			if (nrow > INT_MAX) {
				st = ax_error_set(AX_ERR_FORMAT, "%s: too many columns", path);
				goto fail;
			}
			t->ncols = (int)nrow;
			t->names = row;
			row = NULL;
			caprow = 0;
			continue;
		}
		if (nrow != (size_t)t->ncols) {
			st = ax_error_set(AX_ERR_FORMAT, "%s: line %ld: %zu fields, expected %d as in "
					  "the header", path, rec_line, nrow, t->ncols);
			goto fail;
		}
		if (t->nrows == INT_MAX) {
			st = ax_error_set(AX_ERR_FORMAT, "%s: too many rows", path);
			goto fail;
		}
		if (ncells + nrow > capcells) {
			capcells = AX_MAX(2 * capcells, ncells + nrow + 256);
			t->cells = ax_xrealloc(t->cells, capcells * sizeof *t->cells);
		}
		memcpy(t->cells + ncells, row, nrow * sizeof *row);
		ncells += nrow;
		t->nrows++;
	}
	free(row);
	if (!t->names) {
		free(buf);
		return ax_error_set(AX_ERR_FORMAT, "%s: no header (empty input)", path);
	}
	return AX_OK;
fail:
	free(row);
	free(t->names);
	free(t->cells);
	free(buf);
	memset(t, 0, sizeof *t);
	return st;
}

enum ax_status ax_table_load(const char *path, struct ax_table *t)
{
	struct ax_reader *r;
	memset(t, 0, sizeof *t);
	enum ax_status st = ax_reader_open(&r, path);
	if (st)
		return st;
	st = ax_table_read(r, t);
	ax_reader_close(r);
	return st;
}

void ax_table_free(struct ax_table *t)
{
	if (t->names)
		free(t->names[0]);   /* the block holding every name and cell */
	free(t->names);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

int ax_table_col(const struct ax_table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (!strcmp(t->names[i], name))
			return i;
	return -1;
}

const char *ax_table_str(const struct ax_table *t, int row, int col)
{
	AX_ASSERT(row >= 0 && row < t->nrows && col >= 0 && col < t->ncols && "cell out of range");
	return t->cells[(size_t)row * (size_t)t->ncols + (size_t)col];
}

double ax_table_num(const struct ax_table *t, int row, int col)
{
	const char *s = ax_table_str(t, row, col);
	char *e;
	double v = strtod(s, &e);
	if (e == s)
		return NAN;
	while (*e == ' ' || *e == '\t')
		e++;
	return *e ? NAN : v;
}
