/* ax-plot — PNG figures from CSV metrics or NPY arrays: line, scatter,
 * histogram, heatmap and bar plots, in one or several panels.
 *
 * This file is the command line only: options into struct axp_opts, then
 * read (data.c) -> panels (data.c) -> figure (layout.c, draw.c) -> PNG.
 * See plot.h for the parts and how a status becomes an exit code.
 */
#include "ax_cli.h"
#include "plot.h"

#include <math.h>
#include <string.h>

const char *const axp_kind_names[] = {"line", "scatter", "hist", "heatmap", "bar", NULL};
static const char *const cmap_names[] = {"viridis", "gray", "diverging", NULL};
static const char *const format_names[] = {"auto", "csv", "npy", NULL};

static const char usage_text[] =
	"Usage: ax-plot [OPTION]... [FILE]...\n"
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
	"  mod-lm train | ax-plot -x step -y train_bpb --logy -o loss.png\n"
	"  ax-plot -x step -y loss --group estimator --spread seed runs.csv -o cmp.png\n"
	"  ax-plot -k hist --logx -b 40 weights.npy -o w.png\n"
	"  ax-plot -k heatmap --xlabel offset --ylabel time attn.npy -o attn.png\n";

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

enum { O_OUTPUT, O_KIND, O_X, O_Y, O_GROUP, O_SPREAD, O_BAND, O_BINS, O_DENSITY, O_LOGX,
       O_LOGY, O_TITLE, O_XLABEL, O_YLABEL, O_CLABEL, O_WIDTH, O_HEIGHT, O_DPI, O_LAYOUT,
       O_VMIN, O_VMAX, O_CMAP, O_FORMAT, O_COUNTS, O_LAYOUTP };

#define ALL AX_SUBS_ALL
static const struct ax_option options[] = {
	{"output", 'o', 1, ALL, O_OUTPUT, 0}, {"kind", 'k', 1, ALL, O_KIND, 0},
	{"x", 'x', 1, ALL, O_X, 0}, {"y", 'y', 1, ALL, O_Y, 0},
	{"group", 'g', 1, ALL, O_GROUP, 0}, {"spread", 0, 1, ALL, O_SPREAD, 0},
	{"band", 0, 1, ALL, O_BAND, 0}, {"bins", 'b', 1, ALL, O_BINS, 0},
	{"density", 0, 0, ALL, O_DENSITY, 0}, {"logx", 0, 0, ALL, O_LOGX, 0},
	{"logy", 0, 0, ALL, O_LOGY, 0}, {"title", 't', 1, ALL, O_TITLE, 0},
	{"xlabel", 0, 1, ALL, O_XLABEL, 0}, {"ylabel", 0, 1, ALL, O_YLABEL, 0},
	{"clabel", 0, 1, ALL, O_CLABEL, 0}, {"width", 'W', 1, ALL, O_WIDTH, 0},
	{"height", 'H', 1, ALL, O_HEIGHT, 0}, {"dpi", 'r', 1, ALL, O_DPI, 0},
	{"layout", 'l', 1, ALL, O_LAYOUT, 0}, {"vmin", 0, 1, ALL, O_VMIN, 0},
	{"vmax", 0, 1, ALL, O_VMAX, 0}, {"cmap", 0, 1, ALL, O_CMAP, 0},
	{"format", 'f', 1, ALL, O_FORMAT, 0}, {"print-counts", 0, 0, ALL, O_COUNTS, 0},
	{"print-layout", 0, 0, ALL, O_LAYOUTP, 0},
};

/* One option of the table into o. */
static void take_option(struct axp_opts *o, int id, const char *opt, const char *arg)
{
	switch (id) {
	case O_OUTPUT: o->out = arg; break;
	case O_KIND: o->kind = (enum axp_kind)ax_parse_choice(opt, arg, axp_kind_names); break;
	case O_X: o->x = arg; break;
	case O_Y:
		if (o->ny >= AXP_MAX_PANELS)
			ax_usage_error("-y: at most %d panels", AXP_MAX_PANELS);
		o->yspec[o->ny++] = (char *)arg;
		break;
	case O_GROUP: o->group = arg; break;
	case O_SPREAD: o->spread = arg; break;
	case O_BAND: o->band = arg; break;
	case O_BINS: o->bins = (int)ax_parse_long(opt, arg, 1, 10000); break;
	case O_DENSITY: o->density = 1; break;
	case O_LOGX: o->logx = 1; break;
	case O_LOGY: o->logy = 1; break;
	case O_TITLE: o->title = arg; break;
	case O_XLABEL: o->xlabel = arg; break;
	case O_YLABEL: o->ylabel = arg; break;
	case O_CLABEL: o->clabel = arg; break;
	case O_WIDTH: o->width = (int)ax_parse_long(opt, arg, 50, 20000); break;
	case O_HEIGHT: o->height = (int)ax_parse_long(opt, arg, 50, 20000); break;
	case O_DPI: o->dpi = ax_parse_double(opt, arg, 25, 1200); break;
	case O_LAYOUT: parse_layout(o, arg); break;
	case O_VMIN: o->vmin = ax_parse_double(opt, arg, -HUGE_VAL, HUGE_VAL); break;
	case O_VMAX: o->vmax = ax_parse_double(opt, arg, -HUGE_VAL, HUGE_VAL); break;
	case O_CMAP: o->cmap = (enum ax_cmap)ax_parse_choice(opt, arg, cmap_names); break;
	case O_FORMAT: o->format = (enum axp_format)ax_parse_choice(opt, arg, format_names); break;
	case O_COUNTS: o->print_counts = 1; break;
	case O_LAYOUTP: o->print_layout = 1; break;
	}
}

/* Options into o, checked together; the inputs (NULL-terminated) in *files. */
static void parse_args(struct axp_opts *o, int argc, char **argv, char ***files)
{
	*o = (struct axp_opts){.out = "plot.png", .kind = AXP_AUTO, .dpi = 100, .vmin = NAN,
			       .vmax = NAN};
	struct ax_cli cli = {.usage = usage_text, .opts = options,
			     .nopts = (int)AX_COUNTOF(options)};
	ax_cli_begin(&cli, argc, argv);
	const char *arg;
	for (int id; (id = ax_cli_next(&cli, &arg)) != AX_OPT_END;)
		take_option(o, id, ax_cli_opt(&cli), arg);
	*files = cli.files;   /* argv's tail: NULL-terminated */
	if (!strcmp(o->out, "-") && (o->print_counts || o->print_layout))
		ax_usage_error("--print-counts/--print-layout write to stdout; give -o FILE for the PNG");
	if (!(isnan(o->vmin) || isnan(o->vmax) || o->vmin < o->vmax))
		ax_usage_error("--vmin must be below --vmax");
	if (o->spread && o->kind != AXP_AUTO && o->kind != AXP_LINE)
		ax_usage_error("--spread applies to line plots");
}

int main(int argc, char **argv)
{
	ax_cli_init("ax-plot");
	struct axp_plot p = {0};
	char **files;
	parse_args(&p.o, argc, argv, &files);
	struct ax_figure fig;
	enum ax_status st;
	if ((st = axp_read_inputs(&p, (const char *const *)files)) ||
	    (st = axp_build_panels(&p)) || (st = axp_bin_panels(&p)) ||
	    (st = axp_heat_limits(&p)) || (st = axp_render(&p, &fig)))
		fail(st);
	if (p.o.print_layout)
		axp_print_layout(&p, &fig);
	if ((st = ax_stdout_check()))   /* no PNG when the CSV beside it was lost */
		ax_die_status(AX_EXIT_FAIL, st, NULL);
	if ((st = ax_figure_save_png(&fig, p.o.out)) == AX_ERR_ARG)
		fail(st);   /* the output names an input */
	if (st)
		ax_die_status(AX_EXIT_FAIL, st, "cannot write the PNG");
	ax_figure_free(&fig);
	axp_free(&p);
	return AX_EXIT_OK;
}
