#!/bin/sh
# Every public header compiles alone, as C11 and as C++, with
# -Wall -Wextra -pedantic -Werror (as libgit2's headertest does), and
# braincore.h includes every one of include/braincore/*.h.
# usage: check_headers.sh CC CXX INCLUDE_DIR
set -eu
cc=$1 cxx=$2 inc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for h in $(cd "$inc" && find . -name '*.h' | sed 's|^\./||' | sort); do
	printf '#include "%s"\n#include "%s"\nint headertest_%s;\n' "$h" "$h" \
		"$(echo "$h" | tr -c 'a-zA-Z0-9\n' '_')" > "$tmp/t.c"
	cp "$tmp/t.c" "$tmp/t.cpp"
	if ! "$cc" -std=c11 -Wall -Wextra -pedantic -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o"; then
		echo "FAIL: $h does not compile alone as C11"; status=1
	fi
	if ! "$cxx" -std=c++11 -Wall -Wextra -pedantic -Werror -I"$inc" -c "$tmp/t.cpp" -o "$tmp/t.o"; then
		echo "FAIL: $h does not compile alone as C++11"; status=1
	fi
done
# the umbrella header includes every public header (sys/ extension points
# are included on purpose by those who implement them)
for h in $(cd "$inc" && ls braincore/*.h); do
	grep -q "^#include \"$h\"" "$inc/braincore.h" ||
		{ echo "FAIL: braincore.h does not include $h"; status=1; }
done
[ $status -eq 0 ] && echo "all public headers compile alone as C11 and C++11; braincore.h includes each"
exit $status
