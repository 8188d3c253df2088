/* test-io-csv.c — CSV writer and table reader. */
#include "testutil.h"
#include "ax_io.h"

#include <math.h>
#include <string.h>
#include <zlib.h>

static enum ax_status load_text(const char *text, struct ax_table *t)
{
	return ax_table_load(tu_write_file("t.csv", text, strlen(text)), t);
}

static void test_csv_writer(void **state)
{
	char *buf;
	size_t n;
	FILE *f = open_memstream(&buf, &n);
	struct ax_csv c;
	ax_csv_begin(&c, f, "step,loss,acc");
	assert_int_equal(c.ncols, 3);
	ax_csv_row(&c, (const double[]){1, 0.5, 1.0 / 3});
	ax_csv_row(&c, (const double[]){2, NAN, -INFINITY});
	ax_csv_rowf(&c, "%d,%s,%.2f", 3, "\"x, y\"", 0.125);
	fclose(f);
	assert_string_equal(buf, "step,loss,acc\n"
				 "1,0.5,0.333333333\n"
				 "2,nan,-inf\n"
				 "3,\"x, y\",0.12\n");
	/* What the writer produces, the reader takes back. */
	struct ax_table t;
	assert_int_equal(load_text(buf, &t), AX_OK);
	free(buf);
	assert_int_equal(t.ncols, 3);
	assert_int_equal(t.nrows, 3);
	assert_true(ax_table_num(&t, 0, 2) == 0.333333333);
	assert_true(isnan(ax_table_num(&t, 1, 1)));
	assert_true(isinf(ax_table_num(&t, 1, 2)) && ax_table_num(&t, 1, 2) < 0);
	assert_string_equal(ax_table_str(&t, 2, 1), "x, y");
	ax_table_free(&t);
}

static void test_table_basic(void **state)
{
	struct ax_table t;
	assert_int_equal(load_text("step,loss\n1,0.5\n2,0.25\n3,0.125\n", &t), AX_OK);
	assert_int_equal(t.ncols, 2);
	assert_int_equal(t.nrows, 3);
	assert_string_equal(t.names[0], "step");
	assert_string_equal(t.names[1], "loss");
	assert_int_equal(ax_table_col(&t, "loss"), 1);
	assert_int_equal(ax_table_col(&t, "acc"), -1);
	assert_true(ax_table_num(&t, 2, 1) == 0.125);
	assert_string_equal(ax_table_str(&t, 1, 0), "2");
	ax_table_free(&t);
	assert_null(t.names);
	/* Header only. */
	assert_int_equal(load_text("a,b,c", &t), AX_OK);
	assert_int_equal(t.ncols, 3);
	assert_int_equal(t.nrows, 0);
	ax_table_free(&t);
}

static void test_table_quotes_and_line_ends(void **state)
{
	struct ax_table t;
	const char *text = "\xef\xbb\xbfname,\"quoted, comma\",\"with \"\"quotes\"\"\"\r\n"
			   "\"x\",\"multi\nline\",3\r\n"
			   "\r\n"
			   ",,\"\"\r\n"
			   "a\"b,c\rd,\n"
			   "\n\n";
	assert_int_equal(load_text(text, &t), AX_OK);
	assert_int_equal(t.ncols, 3);
	assert_int_equal(t.nrows, 3);
	assert_string_equal(t.names[0], "name");   /* BOM skipped */
	assert_string_equal(t.names[1], "quoted, comma");
	assert_string_equal(t.names[2], "with \"quotes\"");
	assert_string_equal(ax_table_str(&t, 0, 0), "x");
	assert_string_equal(ax_table_str(&t, 0, 1), "multi\nline");
	assert_true(ax_table_num(&t, 0, 2) == 3);
	for (int c = 0; c < 3; c++)
		assert_string_equal(ax_table_str(&t, 1, c), "");
	assert_string_equal(ax_table_str(&t, 2, 0), "a\"b");   /* bare quote kept */
	assert_string_equal(ax_table_str(&t, 2, 1), "c\rd");   /* lone CR is data */
	assert_string_equal(ax_table_str(&t, 2, 2), "");      /* trailing comma: empty cell */
	ax_table_free(&t);
	/* No final newline; trailing empty field at end of input. */
	assert_int_equal(load_text("a,b\n1,", &t), AX_OK);
	assert_int_equal(t.nrows, 1);
	assert_string_equal(ax_table_str(&t, 0, 1), "");
	ax_table_free(&t);
	/* A quoted last field without newline. */
	assert_int_equal(load_text("a\n\"1\"", &t), AX_OK);
	assert_string_equal(ax_table_str(&t, 0, 0), "1");
	ax_table_free(&t);
}

static void test_table_numbers(void **state)
{
	struct ax_table t;
	assert_int_equal(load_text("v\n\nabc\nnan\ninf\n-1e3\n 2 \n3x\n0x10\n", &t), AX_OK);
	assert_int_equal(t.nrows, 7);   /* the blank line is skipped, not an empty cell */
	assert_true(isnan(ax_table_num(&t, 0, 0)));
	assert_true(isnan(ax_table_num(&t, 1, 0)));
	assert_true(isinf(ax_table_num(&t, 2, 0)));
	assert_true(ax_table_num(&t, 3, 0) == -1000);
	assert_true(ax_table_num(&t, 4, 0) == 2);
	assert_true(isnan(ax_table_num(&t, 5, 0)));
	assert_true(ax_table_num(&t, 6, 0) == 16);
	ax_table_free(&t);
	assert_int_equal(load_text("a,b\n,1\n", &t), AX_OK);
	assert_true(isnan(ax_table_num(&t, 0, 0)));   /* empty cell */
	ax_table_free(&t);
}

static void test_table_malformed(void **state)
{
	struct ax_table t;
	assert_int_equal(load_text("", &t), AX_ERR_FORMAT);
	tu_assert_detail("t.csv: no header");
	assert_null(t.names);
	assert_int_equal(load_text("\n\r\n\n", &t), AX_ERR_FORMAT);
	tu_assert_detail("no header");
	assert_int_equal(load_text("a,b,c\n1,2,3\n4,5\n", &t), AX_ERR_FORMAT);
	tu_assert_detail("t.csv: line 3: 2 fields, expected 3");
	assert_null(t.names);
	assert_int_equal(load_text("a,b\n\"x\ny\",1\n1,2,3\n", &t), AX_ERR_FORMAT);
	tu_assert_detail("line 4: 3 fields");   /* lines inside quotes count */
	assert_int_equal(load_text("a,b\n\n\n1,2,3\n", &t), AX_ERR_FORMAT);
	tu_assert_detail("line 4: 3 fields");   /* blank lines count too */
	assert_int_equal(load_text("a,b\n1,\"open\n", &t), AX_ERR_FORMAT);
	tu_assert_detail("line 2: unterminated quoted field");
	assert_int_equal(load_text("a,b\n\"x\"y,1\n", &t), AX_ERR_FORMAT);
	tu_assert_detail("line 2: text after a closing quote");
	assert_int_equal(ax_table_load(tu_path("missing.csv"), &t), AX_ERR_IO);
	tu_assert_detail("missing.csv");
}

static void test_table_gzip(void **state)
{
	const char *p = tu_path("m.csv.gz");
	gzFile g = gzopen(p, "wb");
	gzputs(g, "x,y\n1,2\n");
	gzclose(g);
	struct ax_table t;
	assert_int_equal(ax_table_load(p, &t), AX_OK);
	assert_int_equal(t.nrows, 1);
	assert_true(ax_table_num(&t, 0, 1) == 2);
	ax_table_free(&t);
}

/* A stream sniffed with peek, then read as a table: nothing is lost, and
 * details name the stream. */
static void test_table_read_stream(void **state)
{
	const char *p = tu_path("s.csv.gz");
	gzFile g = gzopen(p, "wb");
	gzputs(g, "x,y\n1,2\n3,4\n");
	gzclose(g);
	struct ax_reader *r;
	struct ax_table t;
	char head[4];
	size_t got;
	assert_int_equal(ax_reader_open(&r, p), AX_OK);
	assert_int_equal(ax_reader_peek(r, head, 4, &got), AX_OK);
	assert_int_equal(got, 4);
	assert_memory_equal(head, "x,y\n", 4);
	assert_int_equal(ax_table_read(r, &t), AX_OK);
	ax_reader_close(r);
	assert_int_equal(t.ncols, 2);
	assert_int_equal(t.nrows, 2);
	assert_string_equal(t.names[0], "x");
	assert_true(ax_table_num(&t, 1, 1) == 4);
	ax_table_free(&t);

	assert_int_equal(ax_reader_open(&r, tu_write_file("r.csv", "a,b\n1\n", 7)), AX_OK);
	assert_int_equal(ax_table_read(r, &t), AX_ERR_FORMAT);
	ax_reader_close(r);
	tu_assert_detail("r.csv: line 2: 1 fields, expected 2");
	assert_null(t.names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_writer),
		cmocka_unit_test(test_table_basic),
		cmocka_unit_test(test_table_quotes_and_line_ends),
		cmocka_unit_test(test_table_numbers),
		cmocka_unit_test(test_table_malformed),
		cmocka_unit_test(test_table_gzip),
		cmocka_unit_test(test_table_read_stream),
	};
	return cmocka_run_group_tests_name("io-csv", tests, NULL, NULL);
}
