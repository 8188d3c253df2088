/* nwb-import — an NWB 2.x recording (units, trials, behaviour) into a
 * session bundle the spike tools read: the command line. The work is in
 * units.c, trials.c and layout.c (see nwbi.h). */
#include "nwbi.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"Usage: nwb-import --layout reach|binned [OPTION]... -o OUT FILE.nwb\n"
	"Convert an NWB 2.x file (units, trials, behaviour) into a safetensors\n"
	"session bundle: the reach layout (spike times, as spike-sim reach writes;\n"
	"read by poyo-train) or the binned layout (counts per trial, as spike-sim\n"
	"ibl writes; read by mtm-train). 'ax-info FILE.nwb' shows what to map.\n"
	"\n"
	"  -l, --layout NAME       reach or binned (required)\n"
	"  -o, --out FILE          the bundle to write (required)\n"
	"  -w, --units-where C=V   keep the units whose column C of /units is V\n"
	"                          (text or number; repeat: all must hold)\n"
	"  -t, --trial NAME=COL[:FROM=TO,...]\n"
	"                          array NAME from trials column COL, values\n"
	"                          recoded by the map (FROM: number, nan, text or *;\n"
	"                          TO: number or drop); repeat for more fields\n"
	"  -b, --behavior PATH     a TimeSeries (data + timestamps or starting_time)\n"
	"\n"
	"reach:\n"
	"  -r, --rate HZ           behaviour samples per second (default 100)\n"
	"binned:\n"
	"  -a, --align COL         trials column of the time windows align to\n"
	"                          (default start_time)\n"
	"      --window A:B        window around the align time, seconds\n"
	"                          (default -0.5:1.5)\n"
	"      --bin S             bin width, seconds (default 0.02)\n"
	"\n"
	AX_COMMON_HELP
	"\n"
	"Exit status: 0 success, 1 if the bundle could not be written, 2 on a\n"
	"usage error or an input that is missing, not NWB or malformed.\n";

enum { OPT_LAYOUT, OPT_OUT, OPT_WHERE, OPT_TRIAL, OPT_BEHAVIOR, OPT_RATE, OPT_ALIGN,
       OPT_WINDOW, OPT_BIN };
static const struct ax_option options[] = {
	{ "layout", 'l', 1, AX_SUBS_ALL, OPT_LAYOUT, 0 },
	{ "out", 'o', 1, AX_SUBS_ALL, OPT_OUT, 0 },
	{ "units-where", 'w', 1, AX_SUBS_ALL, OPT_WHERE, 0 },
	{ "trial", 't', 1, AX_SUBS_ALL, OPT_TRIAL, 0 },
	{ "behavior", 'b', 1, AX_SUBS_ALL, OPT_BEHAVIOR, 0 },
	{ "rate", 'r', 1, AX_SUBS_ALL, OPT_RATE, 0 },
	{ "align", 'a', 1, AX_SUBS_ALL, OPT_ALIGN, 0 },
	{ "window", 0, 1, AX_SUBS_ALL, OPT_WINDOW, 0 },
	{ "bin", 0, 1, AX_SUBS_ALL, OPT_BIN, 0 },
};
static const char *const layouts[] = { "reach", "binned", NULL };

static void parse_window(struct nwbi_opts *o, const char *opt, const char *arg)
{
	char *end;
	o->win_a = strtod(arg, &end);
	if (end == arg || *end != ':' || !isfinite(o->win_a))
		ax_usage_error("%s: '%s' is not A:B (seconds)", opt, arg);
	o->win_b = ax_parse_double(opt, end + 1, -1e6, 1e6);
	if (!(o->win_b > o->win_a))
		ax_usage_error("%s: '%s' ends before it starts", opt, arg);
}

/* Options that belong to the other layout are refused. */
static void check_layout(const struct ax_cli *cli, const struct nwbi_opts *o)
{
	static const struct { int id, layout; const char *name; } only[] = {
		{ OPT_RATE, NWBI_REACH, "--rate" }, { OPT_ALIGN, NWBI_BINNED, "--align" },
		{ OPT_WINDOW, NWBI_BINNED, "--window" }, { OPT_BIN, NWBI_BINNED, "--bin" },
	};
	for (size_t i = 0; i < AX_COUNTOF(only); i++)
		if (ax_cli_seen(cli, only[i].id) && o->layout != only[i].layout)
			ax_usage_error("%s applies to --layout %s only", only[i].name,
				       layouts[only[i].layout]);
	double T = (o->win_b - o->win_a) / o->bin;
	if (o->layout == NWBI_BINNED && (fabs(T - round(T)) > 1e-6 * T || T > 1e6))
		ax_usage_error("--window %g:%g is not a whole number of --bin %g bins (at most 1e6)",
			       o->win_a, o->win_b, o->bin);
}

static void parse(struct ax_cli *cli, struct nwbi_opts *o, int argc, char **argv)
{
	*o = (struct nwbi_opts){ .layout = -1, .rate = 100, .win_a = -0.5, .win_b = 1.5, .bin = 0.02 };
	o->where = ax_xcalloc((size_t)argc, sizeof *o->where);
	o->fields = ax_xcalloc((size_t)argc, sizeof *o->fields);
	const char *arg;
	for (int id; (id = ax_cli_next(cli, &arg)) != AX_OPT_END;) {
		const char *opt = ax_cli_opt(cli);
		switch (id) {
		case OPT_LAYOUT: o->layout = ax_parse_choice(opt, arg, layouts); break;
		case OPT_OUT: o->out = arg; break;
		case OPT_WHERE:
			if (!strchr(arg, '=') || arg[0] == '=')
				ax_usage_error("%s: '%s' is not COLUMN=VALUE", opt, arg);
			o->where[o->nwhere++] = (char *)arg;
			break;
		case OPT_TRIAL: o->fields[o->nfields++] = (char *)arg; break;
		case OPT_BEHAVIOR: o->behavior = arg; break;
		case OPT_RATE: o->rate = ax_parse_double(opt, arg, 1e-3, 1e6); break;
		case OPT_ALIGN: o->align = arg; break;
		case OPT_WINDOW: parse_window(o, opt, arg); break;
		case OPT_BIN: o->bin = ax_parse_double(opt, arg, 1e-6, 1e4); break;
		}
	}
	if (o->layout < 0)
		ax_usage_error("--layout reach|binned is required");
	if (!o->out || !*o->out)
		ax_usage_error("--out FILE is required");
	if (cli->nfiles != 1)
		ax_usage_error(cli->nfiles ? "one NWB file at a time" : "missing FILE.nwb");
	o->in = cli->files[0];
	struct stat a, b;   /* HDF5 reads the input, so ax_outfile cannot know it */
	if (!stat(o->in, &a) && !stat(o->out, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		ax_usage_error("--out %s is the input file", o->out);
	if (o->layout == NWBI_BINNED && !o->align)
		o->align = "start_time";
	check_layout(cli, o);
	o->quiet = cli->common.quiet;
}

/* The command line as one string (the program by its name, not its
 * path), for the bundle's metadata. */
static char *join_args(int argc, char **argv)
{
	size_t len = strlen(ax_prog()) + 1;
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = ax_xcalloc(1, len);
	strcpy(s, ax_prog());
	for (int i = 1; i < argc; i++)
		strcat(strcat(s, " "), argv[i]);
	return s;
}

int main(int argc, char **argv)
{
	ax_cli_init("nwb-import");
	struct ax_cli cli = { .usage = usage_text, .opts = options, .nopts = (int)AX_COUNTOF(options) };
	ax_cli_begin(&cli, argc, argv);
	struct nwbi_opts o;
	parse(&cli, &o, argc, argv);
	char *args = join_args(argc, argv);
	o.args = args;
	struct ax_nwb *f;
	struct ax_bundle b;
	enum ax_status st = ax_nwb_open(&f, o.in);
	if (st)
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	if ((st = nwbi_bundle(f, &o, &b)))
		ax_die_status(AX_EXIT_USAGE, st, NULL);
	ax_nwb_close(f);
	if ((st = ax_bundle_save(o.out, &b)))
		ax_die_status(AX_EXIT_FAIL, st, "write");
	ax_bundle_free(&b);
	free(args), free(o.where), free(o.fields);
	return 0;
}
