/* ax-info — describe the arrays in NPY files, NPY streams and safetensors
 * bundles: one tab-separated line per array with dtype, shape and min, max,
 * mean; then a bundle's metadata. An NWB file (HDF5) is described by the
 * datasets of its units, trials and electrodes tables and of its
 * TimeSeries, then what to map as key=value lines. */
#include "ax_cli.h"
#include "ax_io.h"
#include "ax_nwb.h"

#include <math.h>
#include <string.h>

static const char usage_text[] =
	"Usage: ax-info [OPTION]... FILE...\n"
	"Describe the arrays in NPY files, NPY streams and safetensors bundles\n"
	"(gzip-compressed or not; '-' is standard input), and the tables and\n"
	"time series of NWB files.\n"
	"\n"
	"Prints a header line, then one tab-separated line per array:\n"
	"  name  dtype  shape  min  max  mean\n"
	"then, after a blank line, each bundle's metadata as key=value lines.\n"
	"An NWB file (HDF5) gets a line per dataset of its units, trials and\n"
	"electrodes tables and of each TimeSeries, then its identity, counts,\n"
	"columns and the values of its text columns as key=value lines.\n"
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

/* name[index], dtype and shape: "scalar", or dims joined by 'x'. */
static void print_head(const char *name, int index, const char *dtype, int ndim,
		       const int64_t *shape)
{
	put_escaped(name);
	if (index >= 0)
		printf("[%d]", index);
	printf("\t%s\t", dtype);
	if (ndim == 0)
		fputs("scalar", stdout);
	for (int i = 0; i < ndim; i++)
		printf("%s%lld", i ? "x" : "", (long long)shape[i]);
}

/* Tab, min, max, mean, newline. */
static void print_stats(const struct ax_array *a)
{
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

static void print_row(const char *name, int index, const struct ax_array *a)
{
	print_head(name, index, ax_dtype_name(a->dtype), a->ndim, a->shape);
	print_stats(a);
}

/* NWB: datasets of at most this many values get statistics (raw
 * recordings are left unread). */
#define NWB_STATS_MAX ((size_t)1 << 24)

/* One line per dataset of group (its file type; statistics of numbers);
 * the text columns' distinct values into b as "<prefix>.<name>". */
static void nwb_rows(const struct ax_nwb *f, const char *group, const char *prefix,
		     struct ax_bundle *b)
{
	char **names, path[1024], key[1100];
	int n;
	if (ax_nwb_members(f, group, &names, &n))
		return;
	for (int i = 0; i < n; i++) {
		struct ax_nwb_dataset d;
		struct ax_array a;
		snprintf(path, sizeof path, "%s/%s", group, names[i]);
		if (ax_nwb_dataset_info(f, path, &d))
			continue;   /* a group */
		size_t count;
		ax_shape_bytes(d.ndim, d.shape, 1, &count);
		print_head(path, -1, d.type, d.ndim, d.shape);
		if (count <= NWB_STATS_MAX && !ax_nwb_read(f, path, &a)) {
			print_stats(&a);
			ax_array_free(&a);
			continue;
		}
		fputs("\t-\t-\t-\n", stdout);
		struct ax_nwb_column c;
		if (prefix && !strcmp(d.type, "string") && d.ndim == 1 &&
		    !ax_nwb_column_load(f, group, names[i], (size_t)d.shape[0], &c)) {
			double *code = ax_xmalloc((c.n ? c.n : 1) * sizeof *code);
			char *values;
			ax_nwb_text_codes(c.str, c.n, code, &values);
			snprintf(key, sizeof key, "%s.%s", prefix, names[i]);
			ax_bundle_set_meta(b, key, values);
			free(code), free(values);
			ax_nwb_column_free(&c);
		}
	}
	ax_nwb_names_free(names, n);
}
static void meta_count(struct ax_bundle *b, const char *key, size_t n)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%zu", n);
	ax_bundle_set_meta(b, key, buf);
}

/* The identity and the tables of an NWB file, then its TimeSeries; units
 * are read whole, so a malformed units table is an error here too. */
static enum ax_status describe_nwb(const char *file, struct ax_bundle *b)
{
	static const char *const root[] = { "identifier", "session_description", "session_start_time" };
	struct ax_nwb *f;
	enum ax_status st = ax_nwb_open(&f, file);
	if (st)
		return st;
	char **v, *text, path[64];
	size_t n;
	if (!ax_nwb_attr_string(f, "/", "nwb_version", &text))
		ax_bundle_set_meta(b, "nwb_version", text), free(text);
	for (size_t i = 0; i < AX_COUNTOF(root); i++) {
		snprintf(path, sizeof path, "/%s", root[i]);
		if (!ax_nwb_read_strings(f, path, &v, &n))
			ax_bundle_set_meta(b, root[i], n ? v[0] : ""), ax_nwb_names_free(v, (int)n);
	}
	struct ax_nwb_units u;
	if (ax_nwb_exists(f, "/units")) {
		if ((st = ax_nwb_units_load(f, &u)))
			goto out;
		meta_count(b, "units", u.n);
		meta_count(b, "units.spikes", u.nspikes);
		ax_nwb_units_free(&u);
		nwb_rows(f, "/units", "units", b);
	}
	struct ax_nwb_dataset d;
	if (!ax_nwb_dataset_info(f, "/intervals/trials/start_time", &d)) {
		meta_count(b, "trials", d.ndim ? (size_t)d.shape[0] : 1);
		nwb_rows(f, "/intervals/trials", "trials", b);
	}
	nwb_rows(f, "/general/extracellular_ephys/electrodes", "electrodes", b);
	int ns;
	if (!ax_nwb_series_list(f, &v, &ns) && ns) {
		size_t len = 1;
		for (int i = 0; i < ns; i++) {
			char st_path[1100], key[1100], num[32];
			double rate;
			nwb_rows(f, v[i], NULL, b), len += strlen(v[i]) + 1;
			snprintf(st_path, sizeof st_path, "%s/starting_time", v[i]);
			snprintf(key, sizeof key, "%s.rate", v[i]);
			if (!ax_nwb_attr_f64(f, st_path, "rate", &rate))
				snprintf(num, sizeof num, "%.17g", rate), ax_bundle_set_meta(b, key, num);
		}
		text = ax_xcalloc(1, len);
		for (int i = 0; i < ns; i++)
			strcat(strcat(text, i ? "," : ""), v[i]);
		ax_bundle_set_meta(b, "timeseries", text);
		free(text), ax_nwb_names_free(v, ns);
	}
out:
	ax_nwb_close(f);
	return st;
}

/* A bundle's arrays are described at once; its metadata (kept in *b) waits
 * until every array line is out. */
static enum ax_status describe(const char *file, struct ax_bundle *b)
{
	struct ax_reader *r;
	enum ax_status st = ax_reader_open(&r, file);
	if (st)
		return st;
	char magic[8];
	size_t got;
	if ((st = ax_reader_peek(r, magic, sizeof magic, &got)))
		goto out;
	if (got == 0) {
		st = ax_error_set(AX_ERR_FORMAT, "%s: empty input", file);
	} else if (got == sizeof magic && !memcmp(magic, AX_HDF5_MAGIC, sizeof magic)) {
		st = strcmp(file, "-") ? describe_nwb(file, b)
				       : ax_error_set(AX_ERR_UNSUPPORTED, "-: an NWB (HDF5) file must "
						      "be named, not read from standard input");
	} else if (got >= 6 && !memcmp(magic, AX_NPY_MAGIC, 6)) {
		for (int i = 0;; i++) {
			struct ax_array a;
			if ((st = ax_npy_read(r, &a)))
				break;
			print_row(file, i, &a);
			ax_array_free(&a);
		}
		if (st == AX_ERR_EOF)
			st = AX_OK;
	} else if (strcmp(file, "-") && ax_hdf5_signature(file)) {   /* after a user block */
		st = describe_nwb(file, b);
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
