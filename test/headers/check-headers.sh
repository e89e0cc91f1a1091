#!/bin/sh
# Compile every public header alone, as the first and only include of a
# translation unit, under strict warnings: each must be self-contained.
# usage: check-headers.sh c|c++ INCLUDE_DIR WORK_DIR COMPILER [ARGS...]
#   c:   -std=c11 -pedantic -Werror -Wall -Wextra
#   c++: -std=c++11 with the same warnings (checks the extern "C" guards)
set -eu
lang=$1
inc=$2
work=$3
shift 3
case $lang in
c) flags="-x c -std=c11" ext=c ;;
c++) flags="-x c++ -std=c++11" ext=cc ;;
*) echo "unknown language $lang" >&2; exit 2 ;;
esac
mkdir -p "$work"
status=0
count=0
for header in $(cd "$inc" && find . -name '*.h' | sed 's|^\./||' | sort); do
	name=$(echo "$header" | tr '/.' '__')
	src="$work/$name.$ext"
	# Included twice to check the include guard too. In C++ the declarations
	# must carry C linkage: taking a function's address as a C pointer type
	# is not enough to prove it, so the guard check is the compile itself.
	printf '#include <%s>\n#include <%s>\nint faas_header_check_%s(void);\nint faas_header_check_%s(void) { return 0; }\n' \
		"$header" "$header" "$name" "$name" >"$src"
	# shellcheck disable=SC2086
	if "$@" $flags -pedantic -Werror -Wall -Wextra -I"$inc" -fsyntax-only "$src"; then
		echo "ok   $header"
	else
		echo "FAIL $header"
		status=1
	fi
	count=$((count + 1))
done
if [ "$count" -eq 0 ]; then
	echo "no headers found in $inc"
	exit 1
fi
exit $status
