#!/bin/sh
# test/fuzz/run.sh NAME SECONDS: build the libFuzzer target NAME with clang in
# build-fuzz and run it for SECONDS on a corpus kept in build-fuzz/fuzz-corpus/NAME
# (seeded from test/fuzz/NAME.seeds, one input a line). Exits non-zero if the
# target crashes or breaks an invariant; the input is saved in
# build-fuzz/fuzz-artifacts/NAME/.
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 NAME SECONDS" >&2
	exit 2
fi
name=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$root/build-fuzz

if [ -f "$dir/build.ninja" ]; then
	meson setup --reconfigure "$dir" "$root" >/dev/null
else
	CC=clang meson setup "$dir" "$root" >/dev/null
fi
ninja -C "$dir" "test/fuzz/fuzz-$name"

corpus=$dir/fuzz-corpus/$name
artifacts=$dir/fuzz-artifacts/$name
mkdir -p "$corpus" "$artifacts"
if [ -f "$here/$name.seeds" ]; then
	i=0
	while IFS= read -r line; do
		i=$((i + 1))
		[ -f "$corpus/seed-$i" ] || printf '%s' "$line" >"$corpus/seed-$i"
	done <"$here/$name.seeds"
fi
dict=
[ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict

exec "$dir/test/fuzz/fuzz-$name" -max_total_time="$seconds" -print_final_stats=1 \
	-artifact_prefix="$artifacts/" $dict "$corpus"
