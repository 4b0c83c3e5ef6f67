#!/bin/sh
# Install the build into a temporary prefix and build consumers against it
# the ways users do: pkg-config (shared and static) and find_package.
# usage: check_install.sh BUILD_DIR SOURCE_DIR CC
set -eu
build=$1 src=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n1 | xargs dirname)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
test -f "$tmp/prefix/include/braincore.h"
test -f "$tmp/prefix/include/braincore/sys/index.h"
test -f "$libdir/libbraincore.a"
test -L "$libdir/libbraincore.so"
test -f "$libdir/libbraincore.so.0"
# the tool, when built (BRAINCORE_TOOLS), with its manual page
if [ -e "$tmp/prefix/bin/braincore" ]; then
	test -f "$tmp/prefix/share/man/man1/braincore.1"
fi

# pkg-config, shared
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror $(pkg-config --cflags braincore) \
	"$src/tests/consumer/main.c" -o "$tmp/app_shared" $(pkg-config --libs braincore)
LD_LIBRARY_PATH="$libdir" "$tmp/app_shared" > "$tmp/out_shared"
grep -q 'Eiffel' "$tmp/out_shared"
# it really runs against the installed shared object
LD_LIBRARY_PATH="$libdir" ldd "$tmp/app_shared" | grep -q "$libdir/libbraincore.so.0"

# pkg-config, static
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror $(pkg-config --cflags braincore) \
	"$src/tests/consumer/main.c" -o "$tmp/app_static" \
	"$libdir/libbraincore.a" $(pkg-config --libs-only-other --static braincore) \
	$(pkg-config --libs-only-l --static braincore | sed 's/-lbraincore//')
if ldd "$tmp/app_static" | grep -q libbraincore; then
	echo "FAIL: static consumer still needs libbraincore.so"; exit 1
fi
"$tmp/app_static" > "$tmp/out_static"
cmp "$tmp/out_shared" "$tmp/out_static"

# CMake package
cmake -S "$src/tests/consumer" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
	-DCMAKE_C_COMPILER="$cc" > "$tmp/consumer-cfg.log"
cmake --build "$tmp/cmake-build" > "$tmp/consumer-build.log"
LD_LIBRARY_PATH="$libdir" "$tmp/cmake-build/consumer" > "$tmp/out_cmake"
cmp "$tmp/out_shared" "$tmp/out_cmake"
# The Brain Core article's example, unchanged (kim_brain.h brings what it
# uses without including)
test -f "$tmp/prefix/include/kim_brain.h"
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror $(pkg-config --cflags braincore) \
	"$src/tests/consumer/article.c" -o "$tmp/article" $(pkg-config --libs braincore)
LD_LIBRARY_PATH="$libdir" "$tmp/article" > "$tmp/out_article"
grep -q '^Brain says: ' "$tmp/out_article"
grep -q '^Memory 0: .*[Ww]eather' "$tmp/out_article"

echo "installed tree works with pkg-config (shared, static), find_package(braincore)" \
	"and the article's example"
