/* spike-sim — simulated neural recordings with known ground truth: the
 * command line. `spike-sim ibl|reach [OPTION]... --out DIR`; the sessions
 * are made in ibl.c and reach.c (see spike.h). */
#include "spike.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"Usage: spike-sim ibl   [OPTION]... --out DIR\n"
	"       spike-sim reach [OPTION]... --out DIR\n"
	"Simulate neural recording sessions with known ground truth, one\n"
	"safetensors bundle per session: DIR/session-000.safetensors, ...\n"
	"\n"
	"Common options:\n"
	"  -o, --out DIR          output directory (created if missing)\n"
	"  -n, --sessions N       number of sessions (default 5)\n"
	"  -t, --trials N         trials per session (ibl 300, reach 100)\n"
	"  -s, --seed N           world and session seed (default 42)\n"
	AX_COMMON_HELP
	"\n"
	"ibl: 100 bins of 20 ms per trial, counts (trials, 100, N)\n"
	"  -r, --regions N        brain regions (default 4, at most 16)\n"
	"  -u, --neurons N        mean neurons per region per session (default 20)\n"
	"  -k, --latents N        latent dimensions per region (default 8)\n"
	"      --rank N           rank of each cross-region coupling (default 2)\n"
	"      --coupling X       cross-region coupling strength (default 1.5)\n"
	"      --gain X           recurrent gain g of each region (default 1.5)\n"
	"      --tau MS           time constant of the latent dynamics, ms (100)\n"
	"      --baseline HZ      median baseline firing rate (default 8)\n"
	"      --fast X           std of fast shared log-rate fluctuations, white\n"
	"                         from bin to bin, rank 2 per region (default 0)\n"
	"      --bins N           bins per trial (default 100)\n"
	"      --wheel DEF        wheel speed: softplus (default) or abs (bundles\n"
	"                         made before the bundle's \"wheel\" key)\n"
	"\n"
	"reach: 1.8 s trials, hand velocity at 100 Hz, spikes at 1 ms\n"
	"  -u, --units N          units per session (default 60)\n"
	"      --baseline HZ      median baseline firing rate (default 10)\n"
	"      --animal N         another animal's unit statistics and sessions\n"
	"                         (default 0; held-out sessions for poyo-train)\n"
	"\n"
	"Exit status: 0 on success, 2 on a usage error, 1 if a file could not be written.\n";

enum { SUB_IBL, SUB_REACH };
enum {
	OPT_OUT, OPT_SESSIONS, OPT_TRIALS, OPT_REGIONS, OPT_NEURONS, OPT_UNITS, OPT_LATENTS,
	OPT_RANK, OPT_COUPLING, OPT_GAIN, OPT_TAU, OPT_BASELINE, OPT_FAST, OPT_BINS,
	OPT_ANIMAL,
	OPT_WHEEL,
};
#define IBL AX_SUB(SUB_IBL)
#define REACH AX_SUB(SUB_REACH)
static const char *const subs[] = { "ibl", "reach", NULL };
static const struct ax_option options[] = {
	{ "out", 'o', 1, IBL | REACH, OPT_OUT, 0 },
	{ "sessions", 'n', 1, IBL | REACH, OPT_SESSIONS, 0 },
	{ "trials", 't', 1, IBL | REACH, OPT_TRIALS, 0 },
	{ "regions", 'r', 1, IBL, OPT_REGIONS, 0 },
	{ "neurons", 'u', 1, IBL, OPT_NEURONS, 0 },
	{ "units", 'u', 1, REACH, OPT_UNITS, 0 },
	{ "latents", 'k', 1, IBL, OPT_LATENTS, 0 },
	{ "rank", 0, 1, IBL, OPT_RANK, 0 },
	{ "coupling", 0, 1, IBL, OPT_COUPLING, 0 },
	{ "gain", 0, 1, IBL, OPT_GAIN, 0 },
	{ "tau", 0, 1, IBL, OPT_TAU, 0 },
	{ "baseline", 0, 1, IBL | REACH, OPT_BASELINE, 0 },
	{ "fast", 0, 1, IBL, OPT_FAST, 0 },
	{ "bins", 0, 1, IBL, OPT_BINS, 0 },
	{ "animal", 0, 1, REACH, OPT_ANIMAL, 0 },
	{ "wheel", 0, 1, IBL, OPT_WHEEL, 0 },
};

static void parse(struct ax_cli *cli, struct spike_opts *o, int argc, char **argv)
{
	*o = (struct spike_opts){ .sessions = 5, .latents = 8, .regions = 4, .rank = 2,
				  .bins = 100, .coupling = 1.5, .gain = 1.5, .tau = 100, .fast = 0 };
	int ibl = cli->sub == SUB_IBL;
	o->trials = ibl ? 300 : 100;
	o->neurons = 20, o->units = 60;
	o->baseline = ibl ? 8 : 10;
	const char *arg;
	for (int id; (id = ax_cli_next(cli, &arg)) != AX_OPT_END;) {
		const char *opt = ax_cli_opt(cli);
		switch (id) {
		case OPT_OUT:
			if (!*arg)
				ax_usage_error("%s: an empty directory name", opt);
			o->out = arg;
			break;
		case OPT_SESSIONS: o->sessions = (int)ax_parse_long(opt, arg, 1, 10000); break;
		case OPT_TRIALS: o->trials = (int)ax_parse_long(opt, arg, 1, 1000000); break;
		case OPT_REGIONS: o->regions = (int)ax_parse_long(opt, arg, 1, 16); break;
		case OPT_NEURONS: o->neurons = (int)ax_parse_long(opt, arg, 1, 100000); break;
		case OPT_UNITS: o->units = (int)ax_parse_long(opt, arg, 1, 100000); break;
		case OPT_LATENTS: o->latents = (int)ax_parse_long(opt, arg, 1, 64); break;
		case OPT_RANK: o->rank = (int)ax_parse_long(opt, arg, 1, 16); break;
		case OPT_COUPLING: o->coupling = ax_parse_double(opt, arg, 0, 100); break;
		case OPT_GAIN: o->gain = ax_parse_double(opt, arg, 0, 100); break;
		case OPT_TAU: o->tau = ax_parse_double(opt, arg, 20, 10000); break;
		case OPT_BASELINE: o->baseline = ax_parse_double(opt, arg, 0.01, 1000); break;
		case OPT_FAST: o->fast = ax_parse_double(opt, arg, 0, 10); break;
		case OPT_BINS: o->bins = (int)ax_parse_long(opt, arg, 10, 100000); break;
		case OPT_ANIMAL: o->animal = (int)ax_parse_long(opt, arg, 0, 1000000); break;
		case OPT_WHEEL: o->wheel = (enum spike_wheel)ax_parse_choice(opt, arg, spike_wheel_names); break;
		}
	}
	o->seed = cli->common.seed;
	o->quiet = cli->common.quiet;
	if (cli->nfiles)
		ax_usage_error("unexpected argument '%s'", cli->files[0]);
	if (!o->out)
		ax_usage_error("--out DIR is required");
	if (o->rank > o->latents)
		ax_usage_error("--rank %d exceeds --latents %d", o->rank, o->latents);
}

int main(int argc, char **argv)
{
	ax_cli_init("spike-sim");
	struct ax_cli cli = { .usage = usage_text, .subs = subs, .opts = options,
			      .nopts = (int)AX_COUNTOF(options) };
	cli.common.seed = 42;
	ax_cli_begin(&cli, argc, argv);
	struct spike_opts o;
	parse(&cli, &o, argc, argv);
	if (mkdir(o.out, 0777) && errno != EEXIST)
		ax_die(AX_EXIT_FAIL, "%s: %s", o.out, strerror(errno));
	struct spike_ibl_world w = { 0 };
	if (cli.sub == SUB_IBL)
		spike_ibl_world_make(&w, &o);
	struct ax_progress p;
	ax_progress_begin(&p, "sessions", o.sessions, o.quiet);
	for (int s = 0; s < o.sessions; s++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/session-%03d.safetensors", o.out, s);
		enum ax_status st = cli.sub == SUB_IBL ? spike_ibl_session(&w, &o, s, path)
						       : spike_reach_session(&o, s, path);
		if (st)
			ax_die_status(AX_EXIT_FAIL, st, "write");
		ax_progress_update(&p, s + 1, NULL);
	}
	ax_progress_end(&p);
	if (cli.sub == SUB_IBL)
		spike_ibl_world_free(&w);
	return 0;
}
