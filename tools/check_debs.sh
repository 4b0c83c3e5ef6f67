#!/bin/sh
# tools/check_debs.sh - build the Debian packages (debian/) from the files
# git tracks, check them with lintian, install them on this machine, use
# them as their users do, and remove them again.
#
#   sh tools/check_debs.sh [OUT_DIR]     (tools/run.sh deb; root or sudo)
#
# The packages stay in OUT_DIR (default build/deb). What is checked with the
# installed packages: the Brain Core article's example (tests/consumer/
# article.c) compiled unchanged with pkg-config; the CMake package; the
# python3 module; the braincore command and its man page; the word table.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
out=${1:-build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
tmp=$(mktemp -d)
installed=""
cleanup() {
	[ -z "$installed" ] || $sudo apt-get purge -y -qq $installed > /dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# a tree of the files git tracks, as they are in the work tree, and files
# not yet added (a clean clone in CI has none); one tar, its errors seen
mkdir "$tmp/braincore"
git ls-files -z --cached --others --exclude-standard -- . ':!bindings/node/node_modules' \
	> "$tmp/files"
tar --null -T "$tmp/files" -cf "$tmp/tree.tar"
tar xf "$tmp/tree.tar" -C "$tmp/braincore"
(cd "$tmp/braincore" && dpkg-buildpackage -us -uc -b > "$tmp/build.log" 2>&1) ||
	{ tail -60 "$tmp/build.log"; exit 1; }
grep -E "^dpkg-gensymbols: (warning|error)" "$tmp/build.log" && {
	echo "check_debs: the exported symbols differ from debian/libbraincore0.symbols"; exit 1; }
changes=$(ls "$tmp"/braincore_*.changes)
lintian --fail-on error,warning "$changes" \
	> "$tmp/lintian.log" 2>&1 || { cat "$tmp/lintian.log"; exit 1; }
cp "$tmp"/*.deb "$changes" "$out"/
echo "check_debs: built and lintian-clean (errors, warnings):"
ls "$out"/*.deb | sed 's|.*/|  |'

# install them here, as a user would
installed="libbraincore0 libbraincore-dev braincore-tools braincore-data python3-braincore"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
	"$out"/libbraincore0_*.deb "$out"/libbraincore-dev_*.deb "$out"/braincore-tools_*.deb \
	"$out"/braincore-data_*.deb "$out"/python3-braincore_*.deb > "$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
cd "$tmp"
unset BRAINCORE_LIBRARY BRAINCORE_WORDS PKG_CONFIG_PATH LD_LIBRARY_PATH || true

# the article's example, unchanged, against the installed headers and library
cc -std=c11 -Wall -Wextra -pedantic -Werror "$src/tests/consumer/article.c" -o article \
	$(pkg-config --cflags --libs braincore)
./article > article.out
grep -q '^Brain says: ' article.out
grep -q '^Memory 0: .*[Ww]eather' article.out
ldd article | grep -Eq 'libbraincore.so.0 => /(usr/)?lib/'
# static, and the CMake package
cc -std=c11 "$src/tests/consumer/main.c" -o app_static -l:libbraincore.a \
	$(pkg-config --static --libs-only-l braincore | sed 's/-lbraincore//')
./app_static | grep -q Eiffel
cmake -S "$src/tests/consumer" -B cm > cm.log 2>&1 && cmake --build cm > cm-build.log 2>&1
./cm/consumer | grep -q Eiffel
# the tool and its man page
braincore demo > demo.out
grep -q 'Eiffel\|wifi password' demo.out
MANWIDTH=80 man braincore 2>/dev/null | grep -q 'braincore'
# python3-braincore with the system's python and library; the library finds
# braincore-data's word table by itself ("doctor" meets "physician" only
# through it: the lexical embedder shares no feature between them)
test -s /usr/share/braincore/words.bin
/usr/bin/python3 - <<'PY'
import braincore
assert braincore.library_path == "libbraincore.so.0", braincore.library_path
with braincore.Brain() as b:
    b.remember("The Eiffel Tower is 330 metres tall.")
    assert "330" in b.think("How tall is the Eiffel Tower?").answer
    b.remember("The physician examined the patient.")
    found = b.recall("doctor", k=1)
    assert found and found[0].text.startswith("The physician"), found
print("python3-braincore", braincore.__version__, "with libbraincore", braincore.library_version,
      "and the word table")
PY
echo "check_debs: the installed packages build, link and run the article's example," \
	"the CMake consumer, the CLI, its man page and the Python module"
