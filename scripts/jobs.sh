# jobs.sh — sourced by the figure recipes: their independent runs side by
# side, JOBS at a time (default 2; each run one thread as the recipe asks),
# so a recipe over seeds uses every core of a node.
#
# A recipe defines each kind of run as a shell function that writes only
# files of its own, then, after its settings and functions and before
# anything else happens,
#   jobs_worker "$@"
# (a call `sh RECIPE BIN --job FUNCTION ARG...` runs that one function and
# exits); later it feeds one run per line, "FUNCTION ARG...", to
#   jobs_run "$0" "$bin"
# which runs each line so, JOBS at a time, and fails if any run failed. The
# recipe then joins the runs' files in a fixed order: its outputs do not
# depend on JOBS.

jobs_worker() {
	[ "${2:-}" = --job ] || return 0
	shift 2
	"$@"
	exit
}

jobs_run() {
	xargs -L 1 -P "${JOBS:-2}" sh "$1" "$2" --job
}
