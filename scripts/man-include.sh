#!/bin/sh
# man-include.sh [--check] PAGE... — copy man/include/NAME.mdoc into every
# page between the lines
#   .\" BEGIN NAME.mdoc
#   .\" END NAME.mdoc
# so text shared by several pages (the training-run options) is written
# once. With --check, change nothing and exit 1 if a page differs.
set -eu
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
root=$(cd "$(dirname "$0")/.." && pwd)
rc=0
for page in "$@"; do
	tmp=$(mktemp)
	awk -v inc="$root/man/include" '
	/^\.\\" BEGIN [a-z0-9-]+\.mdoc$/ {
		print; name = $3
		while ((getline line < (inc "/" name)) > 0) print line
		close(inc "/" name); skip = 1; next
	}
	/^\.\\" END [a-z0-9-]+\.mdoc$/ { skip = 0 }
	!skip' "$page" >"$tmp"
	if cmp -s "$tmp" "$page"; then rm -f "$tmp"
	elif [ $check = 1 ]; then echo "$page: shared text out of date (scripts/man-include.sh $page)" >&2; rm -f "$tmp"; rc=1
	else mv "$tmp" "$page"; fi
done
exit $rc
