#!/bin/sh
# demo.sh BIN OUT — the short reproduction of every built method.
# Each method contributes scripts/demo-<command>.sh, run as
#   sh scripts/demo-<command>.sh BIN OUT/<command>
# which writes its CSV/NPY/PNG files there and one line per figure to
# OUT/<command>/captions.tsv:  file.png<TAB>caption<TAB>command that made it
# This script then writes OUT/index.html showing every figure.
set -eu
bin=$1 out=$2
mkdir -p "$out"
PATH="$(cd "$bin" && pwd):$PATH"; export PATH
ran=""
for frag in scripts/demo-*.sh; do
	[ -e "$frag" ] || continue
	cmd=$(basename "$frag" .sh); cmd=${cmd#demo-}
	if [ ! -x "$bin/$cmd" ]; then
		echo "demo: $cmd is not built, skipped" >&2
		continue
	fi
	echo "demo: $cmd" >&2
	rm -rf "$out/$cmd"; mkdir -p "$out/$cmd"
	t0=$(date +%s)
	sh "$frag" "$bin" "$out/$cmd"
	echo "demo: $cmd done in $(( $(date +%s) - t0 )) s" >&2
	ran="$ran $cmd"
done

html="$out/index.html"
tmp="$html.tmp.$$"
{
	echo '<!DOCTYPE html><html><head><meta charset="utf-8"><title>axon demo</title>'
	echo '<style>body{font-family:sans-serif;max-width:1100px;margin:auto}'
	echo 'figure{display:inline-block;margin:1em;vertical-align:top;max-width:520px}'
	echo 'img{max-width:100%;border:1px solid #ddd}code{font-size:80%;word-break:break-all}</style>'
	echo '</head><body><h1>axon demo</h1>'
	echo "<p>Short reproductions, made by <code>make demo</code> on $(date -u +%Y-%m-%d).</p>"
	for cmd in $ran; do
		echo "<h2>$cmd</h2>"
		[ -f "$out/$cmd/captions.tsv" ] || continue
		# Escape &, <, > in captions and commands.
		sed -e 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' "$out/$cmd/captions.tsv" |
		while IFS='	' read -r png caption command; do
			echo "<figure><img src=\"$cmd/$png\" alt=\"$caption\">"
			echo "<figcaption>$caption<br><code>$command</code></figcaption></figure>"
		done
	done
	echo '</body></html>'
} > "$tmp"
mv "$tmp" "$html"
echo "demo: wrote $html" >&2
