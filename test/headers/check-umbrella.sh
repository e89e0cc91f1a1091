#!/bin/sh
# The umbrella header <faas.h> brings in every public header: after including
# it alone, each header's include guard (faas/sys/state.h -> FAAS_SYS_STATE_H)
# must be defined.
# usage: check-umbrella.sh INCLUDE_DIR WORK_DIR COMPILER [ARGS...]
set -eu
inc=$1
work=$2
shift 2
mkdir -p "$work"
src="$work/umbrella.c"
echo '#include <faas.h>' >"$src"
for header in $(cd "$inc" && find faas -name '*.h' | sort); do
	guard=$(echo "$header" | tr 'a-z/.' 'A-Z__')
	printf '#ifndef %s\n#error "<faas.h> does not include <%s>"\n#endif\n' "$guard" "$header" >>"$src"
done
echo 'int faas_umbrella_check(void);' >>"$src"
echo 'int faas_umbrella_check(void) { return 0; }' >>"$src"
"$@" -x c -std=c11 -pedantic -Werror -Wall -Wextra -I"$inc" -fsyntax-only "$src"
echo "ok   every header is reachable from <faas.h>"
