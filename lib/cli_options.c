/* cli_options.c — `command SUB [OPTION]... [FILE]...`: one option table per
 * command, the common options declared once, getopt's messages replaced by
 * one "prog: what: detail" line. */
#include "ax_cli.h"

#include <getopt.h>
#include <string.h>

/* Long options are returned by getopt_long as LONG_BASE + table index. */
#define LONG_BASE 1000
#define RUN_OPT 0x100   /* internal: a training-run option (train_subs only) */

static const struct ax_option common_opts[] = {
	{ "threads", 0, 1, AX_SUBS_ALL, AX_OPT_THREADS, 0 },
	{ "seed", 's', 1, AX_SUBS_ALL, AX_OPT_SEED, 0 },
	{ "quiet", 'q', 0, AX_SUBS_ALL, AX_OPT_QUIET, 0 },
	{ "help", 'h', 0, AX_SUBS_ALL, AX_OPT_HELP, 0 },
	{ "version", 0, 0, AX_SUBS_ALL, AX_OPT_VERSION, 0 },
	{ "log-every", 0, 1, 0, AX_OPT_LOG_EVERY, RUN_OPT },
	{ "checkpoint", 0, 1, 0, AX_OPT_CHECKPOINT, RUN_OPT },
	{ "every", 0, 1, 0, AX_OPT_EVERY, RUN_OPT },
	{ "stop-at", 0, 1, 0, AX_OPT_STOP_AT, RUN_OPT },
	{ "resume", 0, 1, 0, AX_OPT_RESUME, RUN_OPT },
};

void ax_run_opts_default(struct ax_run_opts *o)
{
	*o = (struct ax_run_opts){ .log_every = 50, .every = 0, .stop_at = 0 };
}

void ax_cli_help(const struct ax_cli *cli)
{
	fputs(cli->usage, stdout);
	exit(AX_EXIT_OK);   /* the stream check at exit reports a failed write */
}

_Noreturn static void version_exit(void)
{
	ax_print_version();
	exit(AX_EXIT_OK);
}

static void merge_table(struct ax_cli *cli)
{
	AX_ASSERT(cli->nopts + (int)AX_COUNTOF(common_opts) <= AX_CLI_MAX_OPTS &&
		  "too many options");
	cli->n = 0;
	for (int i = 0; i < cli->nopts; i++)
		cli->all[cli->n++] = cli->opts[i];
	for (size_t k = 0; k < AX_COUNTOF(common_opts); k++) {
		int given = 0;
		for (int i = 0; i < cli->nopts; i++)
			given |= cli->opts[i].id == common_opts[k].id;
		if (given)
			continue;
		struct ax_option o = common_opts[k];
		if (o.flags & RUN_OPT)
			o.subs = cli->train_subs;
		/* The checkpoint keeps --log-every (ax_run_put), so a resumed run logs
		 * as the first part did. */
		o.flags = o.id == AX_OPT_LOG_EVERY ? AX_OPT_FIXED : 0;
		cli->all[cli->n++] = o;
	}
	memset(cli->seen, 0, sizeof cli->seen);
}

static const char *sub_list(const struct ax_cli *cli, char *buf, size_t n)
{
	buf[0] = 0;
	for (int i = 0; cli->subs[i]; i++) {
		strncat(buf, i ? (cli->subs[i + 1] ? ", " : " or ") : "", n - strlen(buf) - 1);
		strncat(buf, cli->subs[i], n - strlen(buf) - 1);
	}
	return buf;
}

void ax_cli_begin(struct ax_cli *cli, int argc, char **argv)
{
	ax_run_opts_default(&cli->common.run);
	merge_table(cli);
	cli->sub = 0;
	cli->sub_name = ax_prog();
	cli->argc = argc;
	cli->argv = argv;
	cli->files = NULL;
	cli->nfiles = 0;
	optind = 0;   /* glibc: a full re-initialisation */
	opterr = 0;
	if (!cli->subs)
		return;
	char list[256];
	if (argc < 2)
		ax_usage_error("a sub-command is needed: %s", sub_list(cli, list, sizeof list));
	const char *s = argv[1];
	if (!strcmp(s, "-h") || !strcmp(s, "--help"))
		ax_cli_help(cli);
	if (!strcmp(s, "--version"))
		version_exit();
	for (int i = 0; cli->subs[i]; i++)
		if (!strcmp(s, cli->subs[i])) {
			cli->sub = i;
			cli->sub_name = cli->subs[i];
			cli->argc = argc - 1;
			cli->argv = argv + 1;
			return;
		}
	if (s[0] == '-')
		ax_usage_error("%s: the sub-command comes first (%s)", s,
			       sub_list(cli, list, sizeof list));
	ax_usage_error("unknown sub-command '%s' (%s)", s, sub_list(cli, list, sizeof list));
}

/* The entry a short letter means for this sub-command. */
static int find_short(const struct ax_cli *cli, int c)
{
	int first = -1;
	for (int i = 0; i < cli->n; i++)
		if (cli->all[i].short_name == c) {
			if (cli->all[i].subs & AX_SUB(cli->sub))
				return i;
			if (first < 0)
				first = i;
		}
	return first;
}

/* "--name" of what getopt refused (the argument as typed, up to '='). */
static void refused_name(const struct ax_cli *cli, char *buf, size_t n)
{
	if (optopt >= LONG_BASE && optopt < LONG_BASE + cli->n)
		snprintf(buf, n, "--%s", cli->all[optopt - LONG_BASE].name);
	else if (optopt > 0 && optopt < 256)
		snprintf(buf, n, "-%c", optopt);
	else {
		const char *a = optind > 0 && optind <= cli->argc ? cli->argv[optind - 1] : "?";
		size_t len = strcspn(a, "=");
		snprintf(buf, n, "%.*s", (int)(len < 60 ? len : 60), a);
	}
}

static int getopt_once(struct ax_cli *cli)
{
	struct option lo[AX_CLI_MAX_OPTS + 1];
	char shorts[2 * AX_CLI_MAX_OPTS + 2] = ":";
	size_t ns = 1;
	for (int i = 0; i < cli->n; i++) {
		const struct ax_option *o = &cli->all[i];
		lo[i] = (struct option){ o->name, o->has_arg ? required_argument : no_argument, NULL,
					 LONG_BASE + i };
		if (o->short_name && !memchr(shorts, o->short_name, ns)) {
			shorts[ns++] = (char)o->short_name;
			if (o->has_arg)
				shorts[ns++] = ':';
		}
	}
	lo[cli->n] = (struct option){ NULL, 0, NULL, 0 };
	shorts[ns] = 0;
	int c = getopt_long(cli->argc, cli->argv, shorts, lo, NULL);
	if (c == -1 || c >= LONG_BASE)
		return c == -1 ? -1 : c - LONG_BASE;
	char name[64];
	if (c == ':') {
		refused_name(cli, name, sizeof name);
		ax_usage_error("%s: a value is needed", name);
	}
	if (c == '?') {
		refused_name(cli, name, sizeof name);
		if (optopt >= LONG_BASE)
			ax_usage_error("%s: takes no value", name);
		ax_usage_error("%s: unknown option", name);
	}
	return find_short(cli, c);
}

/* Common options: parsed here. Returns 1 if handled. */
static int common(struct ax_cli *cli, int id, const char *arg)
{
	struct ax_common *c = &cli->common;
	const char *opt = cli->optname;
	switch (id) {
	case AX_OPT_THREADS: c->threads = (int)ax_parse_long(opt, arg, 0, 4096); return 1;
	case AX_OPT_SEED: c->seed = ax_parse_seed(opt, arg); return 1;
	case AX_OPT_QUIET: c->quiet = 1; return 1;
	case AX_OPT_HELP: ax_cli_help(cli);
	case AX_OPT_VERSION: version_exit();
	case AX_OPT_LOG_EVERY: c->run.log_every = ax_parse_long(opt, arg, 1, 1L << 40); return 1;
	case AX_OPT_EVERY: c->run.every = ax_parse_long(opt, arg, 0, 1L << 40); return 1;
	case AX_OPT_STOP_AT: c->run.stop_at = ax_parse_long(opt, arg, 1, 1L << 40); return 1;
	case AX_OPT_CHECKPOINT:
	case AX_OPT_RESUME:
		if (!*arg)
			ax_usage_error("%s: an empty file name", opt);
		*(id == AX_OPT_CHECKPOINT ? &c->run.checkpoint : &c->run.resume) = arg;
		return 1;
	}
	return 0;
}

int ax_cli_next(struct ax_cli *cli, const char **arg)
{
	for (;;) {
		int i = getopt_once(cli);
		if (i < 0) {
			cli->files = cli->argv + optind;
			cli->nfiles = cli->argc - optind;
			ax_threads_set(cli->common.threads);
			*arg = NULL;
			return AX_OPT_END;
		}
		const struct ax_option *o = &cli->all[i];
		cli->cur = i;
		cli->seen[i] = 1;
		snprintf(cli->optname, sizeof cli->optname, "--%s", o->name);
		if (o->id != AX_OPT_HELP && o->id != AX_OPT_VERSION && !(o->subs & AX_SUB(cli->sub)))
			ax_usage_error("%s: option --%s does not apply", cli->sub_name, o->name);
		*arg = o->has_arg ? optarg : NULL;
		if (!common(cli, o->id, *arg))
			return o->id;
	}
}

const char *ax_cli_opt(const struct ax_cli *cli) { return cli->optname; }

int ax_cli_seen(const struct ax_cli *cli, int id)
{
	for (int i = 0; i < cli->n; i++)
		if (cli->all[i].id == id && cli->seen[i])
			return 1;
	return 0;
}

void ax_cli_refuse(const struct ax_cli *cli, int flag, const char *why)
{
	for (int i = 0; i < cli->n; i++)
		if (cli->seen[i] && (cli->all[i].flags & flag))
			ax_usage_error("%s: --%s %s", cli->sub_name, cli->all[i].name, why);
}

void ax_cli_setting(const struct ax_cli *cli, const struct ax_setting *s, const char *arg,
		    void *base)
{
	if (ax_setting_parse(s, arg, base))
		ax_usage_error("%s: %s", cli->optname, ax_error_detail());
}
