#!/bin/sh
# Man pages: the text shared by several pages (man/include/*.mdoc, copied in
# by scripts/man-include.sh) is the same in each; every trainer's page has
# the training-run options.
. "$AXON_ROOT/tests/cmd/lib.sh"
cd "$AXON_ROOT"
check "shared man text up to date" -- sh scripts/man-include.sh --check man/man1/*.1
for page in mod-lm mtm-train teb-fit agent-probe poyo-train; do
	grep -q '^\.\\" BEGIN training-run\.mdoc$' "man/man1/$page.1" \
		&& ok "$page(1) has the training-run options" || bad "$page(1) lacks the training-run options"
done
for page in mod-lm mtm-train teb-fit agent-probe apical-net poyo-train; do
	grep -q '^\.\\" BEGIN cluster\.mdoc$' "man/man1/$page.1" \
		&& ok "$page(1) says how to run on a cluster" || bad "$page(1) lacks RUNNING ON A CLUSTER"
done
# The check notices a page that drifted.
sed 's/^A CSV row every N steps/A row every N steps/' man/man1/mod-lm.1 >"$T/drift.1"
sh scripts/man-include.sh --check "$T/drift.1" 2>/dev/null && bad "a drifted page passes the check" \
	|| ok "a drifted page fails the check"
finish
