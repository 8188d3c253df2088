/* ax-plot — PNG figures from CSV metrics or NPY arrays: line, scatter,
 * histogram, heatmap and bar plots, in one or several panels.
 *
 * This file is the command line only: options into struct axp_opts, then
 * read (data.c) -> panels (data.c) -> figure (layout.c, draw.c) -> PNG.
 * See plot.h for the parts and how a status becomes an exit code.
 */
#include "ax_cli.h"
#include "plot.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

const char *const axp_kind_names[] = {"line", "scatter", "hist", "heatmap", "bar", NULL};
static const char *const cmap_names[] = {"viridis", "gray", "diverging", NULL};
static const char *const format_names[] = {"auto", "csv", "npy", NULL};

static void usage(void)
{
	printf("Usage: %s [OPTION]... [FILE]...\n"
	       "Plot CSV metrics (header row) or NPY arrays to a PNG. FILE '-' or none: stdin.\n"
	       "\n"
	       "  -o, --output FILE      PNG to write (default plot.png; '-' is stdout)\n"
	       "  -k, --kind KIND        line, scatter, hist, heatmap, bar (default: line for\n"
	       "                         CSV and 1-D NPY, heatmap for 2-D NPY)\n"
	       "  -x, --x COL            x column (line, scatter: default the row number;\n"
	       "                         bar: the label column)\n"
	       "  -y, --y COL[,COL...]   y columns drawn together; repeat -y for more panels\n"
	       "                         (default: every numeric column)\n"
	       "  -g, --group COL        one series per value of COL\n"
	       "      --spread COL       COL names runs (e.g. seed): draw the median over runs\n"
	       "                         at each x with an interquartile band\n"
	       "      --band LOW,HIGH    shade between columns LOW and HIGH (bar: error bars)\n"
	       "  -b, --bins N           histogram bins (default: sqrt(n), 5..60)\n"
	       "      --density          histogram as probability density\n"
	       "      --logx, --logy     log10 axes (hist --logx: log-spaced bins)\n"
	       "  -t, --title TEXT       figure title\n"
	       "      --xlabel TEXT, --ylabel TEXT, --clabel TEXT  axis and colour bar labels\n"
	       "  -W, --width PX         image width (default 800, 500 per panel column)\n"
	       "  -H, --height PX        image height (default 600, 420 per panel row)\n"
	       "  -r, --dpi N            dots per inch: scales text and lines (default 100)\n"
	       "  -l, --layout RxC       panel grid (default: side by side up to 3, then square)\n"
	       "      --vmin V, --vmax V heatmap colour limits (default: data range)\n"
	       "      --cmap NAME        heatmap colours: viridis, gray, diverging\n"
	       "  -f, --format FMT       input format: auto, csv, npy (default auto)\n"
	       "      --print-counts     histogram counts as CSV on stdout\n"
	       "      --print-layout     each panel's plot area and limits as CSV on stdout\n"
	       "  -h, --help             this help\n"
	       "      --version          version\n"
	       "\n"
	       "Examples:\n"
	       "  mod-lm train | %s -x step -y train_bpb --logy -o loss.png\n"
	       "  %s -x step -y loss --group estimator --spread seed runs.csv -o cmp.png\n"
	       "  %s -k hist --logx -b 40 weights.npy -o w.png\n"
	       "  %s -k heatmap --xlabel offset --ylabel time attn.npy -o attn.png\n",
	       ax_prog(), ax_prog(), ax_prog(), ax_prog(), ax_prog());
}

/* The one place a status becomes a message and an exit code. */
static _Noreturn void fail(enum ax_status st)
{
	if (st == AX_ERR_ARG)
		ax_usage_error("%s", ax_error_detail());
	ax_die_status(st == AX_ERR_IO || st == AX_ERR_NOMEM ? AX_EXIT_FAIL : AX_EXIT_USAGE, st,
		      NULL);
}

static void parse_layout(struct axp_opts *o, const char *s)
{
	char *end;
	long r = strtol(s, &end, 10);
	if (end == s || (*end != 'x' && *end != 'X'))
		ax_usage_error("--layout: expected RxC like 2x3, got '%s'", s);
	const char *c = end + 1;
	long cc = strtol(c, &end, 10);
	if (end == c || *end || r < 1 || cc < 1 || r > 16 || cc > 16)
		ax_usage_error("--layout: expected RxC with 1..16 each, got '%s'", s);
	o->rows = (int)r;
	o->cols = (int)cc;
}

enum { O_SPREAD = 256, O_BAND, O_DENSITY, O_LOGX, O_LOGY, O_XLABEL, O_YLABEL, O_CLABEL,
       O_VMIN, O_VMAX, O_CMAP, O_COUNTS, O_LAYOUTP, O_VERSION };

static const struct option longopts[] = {
	{"output", required_argument, NULL, 'o'}, {"kind", required_argument, NULL, 'k'},
	{"x", required_argument, NULL, 'x'}, {"y", required_argument, NULL, 'y'},
	{"group", required_argument, NULL, 'g'}, {"spread", required_argument, NULL, O_SPREAD},
	{"band", required_argument, NULL, O_BAND}, {"bins", required_argument, NULL, 'b'},
	{"density", no_argument, NULL, O_DENSITY}, {"logx", no_argument, NULL, O_LOGX},
	{"logy", no_argument, NULL, O_LOGY}, {"title", required_argument, NULL, 't'},
	{"xlabel", required_argument, NULL, O_XLABEL},
	{"ylabel", required_argument, NULL, O_YLABEL},
	{"clabel", required_argument, NULL, O_CLABEL},
	{"width", required_argument, NULL, 'W'}, {"height", required_argument, NULL, 'H'},
	{"dpi", required_argument, NULL, 'r'}, {"layout", required_argument, NULL, 'l'},
	{"vmin", required_argument, NULL, O_VMIN}, {"vmax", required_argument, NULL, O_VMAX},
	{"cmap", required_argument, NULL, O_CMAP}, {"format", required_argument, NULL, 'f'},
	{"print-counts", no_argument, NULL, O_COUNTS},
	{"print-layout", no_argument, NULL, O_LAYOUTP},
	{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0}};

/* One option into o; returns 1 when the command is done (--help, --version). */
static int take_option(struct axp_opts *o, int c, char **argv)
{
	switch (c) {
	case 'o': o->out = optarg; break;
	case 'k': o->kind = (enum axp_kind)ax_parse_choice("--kind", optarg, axp_kind_names); break;
	case 'x': o->x = optarg; break;
	case 'y':
		if (o->ny >= AXP_MAX_PANELS)
			ax_usage_error("-y: at most %d panels", AXP_MAX_PANELS);
		o->yspec[o->ny++] = optarg;
		break;
	case 'g': o->group = optarg; break;
	case O_SPREAD: o->spread = optarg; break;
	case O_BAND: o->band = optarg; break;
	case 'b': o->bins = (int)ax_parse_long("--bins", optarg, 1, 10000); break;
	case O_DENSITY: o->density = 1; break;
	case O_LOGX: o->logx = 1; break;
	case O_LOGY: o->logy = 1; break;
	case 't': o->title = optarg; break;
	case O_XLABEL: o->xlabel = optarg; break;
	case O_YLABEL: o->ylabel = optarg; break;
	case O_CLABEL: o->clabel = optarg; break;
	case 'W': o->width = (int)ax_parse_long("--width", optarg, 50, 20000); break;
	case 'H': o->height = (int)ax_parse_long("--height", optarg, 50, 20000); break;
	case 'r': o->dpi = ax_parse_double("--dpi", optarg, 25, 1200); break;
	case 'l': parse_layout(o, optarg); break;
	case O_VMIN: o->vmin = ax_parse_double("--vmin", optarg, -HUGE_VAL, HUGE_VAL); break;
	case O_VMAX: o->vmax = ax_parse_double("--vmax", optarg, -HUGE_VAL, HUGE_VAL); break;
	case O_CMAP: o->cmap = (enum ax_cmap)ax_parse_choice("--cmap", optarg, cmap_names); break;
	case 'f': o->format = (enum axp_format)ax_parse_choice("--format", optarg, format_names); break;
	case O_COUNTS: o->print_counts = 1; break;
	case O_LAYOUTP: o->print_layout = 1; break;
	case 'h': usage(); return 1;
	case O_VERSION: ax_print_version(); return 1;
	case ':': ax_usage_error("option '%s' needs a value", argv[optind - 1]);
	default: ax_usage_error("unknown option '%s'", argv[optind - 1]);
	}
	return 0;
}

/* Options into o, checked together; returns 1 when the command is done. */
static int parse_args(struct axp_opts *o, int argc, char **argv)
{
	*o = (struct axp_opts){.out = "plot.png", .kind = AXP_AUTO, .dpi = 100, .vmin = NAN,
			       .vmax = NAN};
	int c;
	opterr = 0;  /* our own messages, in the usual form */
	while ((c = getopt_long(argc, argv, ":o:k:x:y:g:b:t:W:H:r:l:f:h", longopts, NULL)) != -1)
		if (take_option(o, c, argv))
			return 1;
	if (!strcmp(o->out, "-") && (o->print_counts || o->print_layout))
		ax_usage_error("--print-counts/--print-layout write to stdout; give -o FILE for the PNG");
	if (!(isnan(o->vmin) || isnan(o->vmax) || o->vmin < o->vmax))
		ax_usage_error("--vmin must be below --vmax");
	if (o->spread && o->kind != AXP_AUTO && o->kind != AXP_LINE)
		ax_usage_error("--spread applies to line plots");
	return 0;
}

int main(int argc, char **argv)
{
	ax_cli_init(argv[0]);
	struct axp_plot p = {0};
	if (parse_args(&p.o, argc, argv))
		return AX_EXIT_OK;
	struct ax_figure fig;
	enum ax_status st;
	if ((st = axp_read_inputs(&p, (const char *const *)argv + optind)) ||
	    (st = axp_build_panels(&p)) || (st = axp_bin_panels(&p)) ||
	    (st = axp_heat_limits(&p)) || (st = axp_render(&p, &fig)))
		fail(st);
	if (p.o.print_layout)
		axp_print_layout(&p, &fig);
	if (fflush(stdout))
		ax_die(AX_EXIT_FAIL, "standard output: write error");
	if ((st = ax_figure_save_png(&fig, p.o.out)) == AX_ERR_ARG)
		fail(st);   /* the output names an input */
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "cannot write the PNG");
	ax_figure_free(&fig);
	axp_free(&p);
	return AX_EXIT_OK;
}
