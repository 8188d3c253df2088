/* ax-info — describe the arrays in NPY files, NPY streams and safetensors
 * bundles: one tab-separated line per array with dtype, shape and min, max,
 * mean; then a bundle's metadata. */
#include "ax_cli.h"
#include "ax_io.h"

#include <math.h>
#include <string.h>

static const char usage_text[] =
	"Usage: ax-info [OPTION]... FILE...\n"
	"Describe the arrays in NPY files, NPY streams and safetensors bundles\n"
	"(gzip-compressed or not; '-' is standard input).\n"
	"\n"
	"Prints a header line, then one tab-separated line per array:\n"
	"  name  dtype  shape  min  max  mean\n"
	"then, after a blank line, each bundle's metadata as key=value lines.\n"
	"\n"
	"  -h, --help     print this help and exit\n"
	"      --version  print the version and exit\n"
	"\n"
	"Exit status: 0 if every FILE was read, 2 on a usage error or an input\n"
	"that is missing or malformed, 1 if the output could not be written.\n";

/* Input text (tensor names, metadata) printed so it cannot break the
 * line-and-tab layout: \\ \t \n \r and other control bytes are escaped. */
static void put_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* A scalar's shape prints as "scalar"; others as dims joined by 'x'. */
static void print_row(const char *name, int index, const struct ax_array *a)
{
	put_escaped(name);
	if (index >= 0)
		printf("[%d]", index);
	printf("\t%s\t", ax_dtype_name(a->dtype));
	if (a->ndim == 0)
		fputs("scalar", stdout);
	for (int i = 0; i < a->ndim; i++)
		printf("%s%lld", i ? "x" : "", (long long)a->shape[i]);
	/* Like numpy: any NaN makes min, max and mean NaN; empty arrays too. */
	size_t n = ax_array_count(a), i;
	double lo = INFINITY, hi = -INFINITY, sum = 0;
	for (i = 0; i < n; i++) {
		double v = ax_array_get(a, i);
		if (isnan(v))
			break;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		sum += v;
	}
	if (n == 0 || i < n)
		printf("\tnan\tnan\tnan\n");
	else
		printf("\t%.6g\t%.6g\t%.6g\n", lo, hi, sum / (double)n);
}

/* A bundle's arrays are described at once; its metadata (kept in *b) waits
 * until every array line is out. */
static enum ax_status describe(const char *file, struct ax_bundle *b)
{
	struct ax_reader *r;
	enum ax_status st = ax_reader_open(&r, file);
	if (st)
		return st;
	char magic[6];
	size_t got;
	if ((st = ax_reader_peek(r, magic, sizeof magic, &got)))
		goto out;
	if (got == 0) {
		st = ax_error_set(AX_ERR_FORMAT, "%s: empty input", file);
	} else if (got == sizeof magic && !memcmp(magic, AX_NPY_MAGIC, sizeof magic)) {
		for (int i = 0;; i++) {
			struct ax_array a;
			if ((st = ax_npy_read(r, &a)))
				break;
			print_row(file, i, &a);
			ax_array_free(&a);
		}
		if (st == AX_ERR_EOF)
			st = AX_OK;
	} else if (!(st = ax_bundle_read(r, b))) {
		for (int i = 0; i < b->n; i++)
			print_row(b->entries[i].name, -1, &b->entries[i].array);
		for (int i = 0; i < b->n; i++)
			ax_array_free(&b->entries[i].array);   /* keep only the metadata */
	}
out:
	ax_reader_close(r);
	return st;
}

/* Each bundle's metadata, after every array line; with several files each
 * line says whose it is: FILE:key=value. */
static void print_metadata(char **files, int nfiles, const struct ax_bundle *bundles)
{
	int nmeta = 0;
	for (int i = 0; i < nfiles; i++)
		nmeta += bundles[i].nmeta;
	if (nmeta)
		putchar('\n');
	for (int i = 0; i < nfiles; i++) {
		const struct ax_bundle *b = &bundles[i];
		for (int k = 0; k < b->nmeta; k++) {
			if (nfiles > 1) {
				put_escaped(files[i]);
				putchar(':');
			}
			put_escaped(b->meta_keys[k]);
			putchar('=');
			put_escaped(b->meta_values[k]);
			putchar('\n');
		}
	}
}

int main(int argc, char **argv)
{
	ax_cli_init("ax-info");
	struct ax_cli cli = {.usage = usage_text};
	ax_cli_begin(&cli, argc, argv);
	const char *arg;
	while (ax_cli_next(&cli, &arg) != AX_OPT_END)
		;   /* only the common options */
	if (cli.nfiles == 0)
		ax_usage_error("missing FILE ('-' reads standard input)");

	int status = AX_EXIT_OK;
	struct ax_bundle *bundles = ax_xcalloc((size_t)cli.nfiles, sizeof *bundles);
	printf("name\tdtype\tshape\tmin\tmax\tmean\n");
	for (int i = 0; i < cli.nfiles; i++)
		if (describe(cli.files[i], &bundles[i])) {
			fflush(stdout);   /* keep the lines printed so far before the message */
			ax_warn("%s", ax_error_detail());
			status = AX_EXIT_USAGE;
		}
	print_metadata(cli.files, cli.nfiles, bundles);
	for (int i = 0; i < cli.nfiles; i++)
		ax_bundle_free(&bundles[i]);
	free(bundles);
	enum ax_status st = ax_stdout_check();
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, NULL);
	return status;
}
