#!/bin/sh
# The shared library exports exactly the functions the public headers
# declare, all named brain_*, and carries the SONAME libbraincore.so.0.
# usage: check_symbols.sh LIBRARY INCLUDE_DIR
set -eu
lib=$1 inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWwDdBbRrVv]$/ {print $3}' | sort -u > "$tmp/exported"
status=0
if grep -v '^brain_' "$tmp/exported" > "$tmp/bad"; then
	echo "FAIL: exported symbols without the brain_ prefix:"; cat "$tmp/bad"; status=1
fi
# Declarations start at the beginning of a line; typedefs of callbacks do not.
find "$inc" -name '*.h' -exec cat {} + \
	| grep -E '^[a-z_][a-z0-9_ *]*[ *](brain_[a-z0-9_]+)\(' \
	| grep -v '^typedef' \
	| sed -E 's/.*[ *](brain_[a-z0-9_]+)\(.*/\1/' | sort -u > "$tmp/declared"
if ! diff "$tmp/declared" "$tmp/exported" > "$tmp/diff"; then
	echo "FAIL: declared (<) and exported (>) functions differ:"; cat "$tmp/diff"; status=1
fi
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
if [ "$soname" != "libbraincore.so.0" ]; then
	echo "FAIL: SONAME is '$soname', expected libbraincore.so.0"; status=1
fi
[ $status -eq 0 ] && echo "exports: $(wc -l < "$tmp/exported") brain_ functions, all declared; SONAME $soname"
exit $status
