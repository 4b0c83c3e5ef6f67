#!/bin/sh
# tests/check_manpage.sh - the manual page of the braincore tool:
# it renders without a warning (groff -ww, else nroff -ww, else mandoc
# -Tlint; with none of them that part is skipped, loudly), and it names
# every command and option `braincore --help` lists and every BRAINCORE_*
# environment variable the library and the tool read.
#
# Usage: sh tests/check_manpage.sh tools/braincore.1 path/to/braincore SOURCE_DIR

page=$1 bc=$2 src=$3
if [ ! -f "$page" ] || [ ! -x "$bc" ] || [ ! -d "$src" ]; then
	echo "check_manpage: usage: check_manpage.sh PAGE BRAINCORE SOURCE_DIR" >&2
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_manpage.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "check_manpage: $1" >&2
	failures=$((failures + 1))
}

# 1. It renders, without a warning.
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$page" >"$tmp/render" 2>&1 || fail "groff failed"
	tool="groff -man -Tutf8 -ww"
elif command -v nroff >/dev/null 2>&1; then
	nroff -man -ww "$page" >/dev/null 2>"$tmp/render" || fail "nroff failed"
	tool="nroff -man -ww"
elif command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint "$page" >"$tmp/render" 2>&1
	tool="mandoc -Tlint"
else
	tool=
	echo "check_manpage: SKIPPED the rendering check: none of groff, nroff or mandoc is" \
		"installed (Debian: groff-base)" >&2
fi
if [ -n "$tool" ]; then
	if [ -s "$tmp/render" ]; then
		fail "$tool warns:"
		sed 's/^/  /' "$tmp/render" | head -20 >&2
	else
		echo "ok - $tool renders $page without a warning"
	fi
fi

# The page's text with roff's \- as -, for the searches below.
sed 's/\\-/-/g' "$page" >"$tmp/page"

# 2. Every command of --help has its entry under COMMANDS (.B or .BI).
"$bc" --help >"$tmp/help" || fail "braincore --help failed"
sed -n '/^Commands:/,/^$/p' "$tmp/help" | grep -E '^  [a-z]' | awk '{ print $1 }' | sort -u >"$tmp/commands"
n=$(wc -l <"$tmp/commands" | tr -d ' ')
[ "$n" -ge 10 ] || fail "found only $n commands in braincore --help"
while read -r cmd; do
	if ! grep -E "^\.BI? \"?$cmd( |\"|\$)" "$tmp/page" >/dev/null; then
		fail "command '$cmd' of --help has no entry in $page"
	fi
done <"$tmp/commands"
echo "ok - the $n commands of --help have entries"

# 3. Every option of --help is described.
sed -n '/^Options/,/^$/p' "$tmp/help" | grep -oE '(^|[ ,])--?[a-z][a-z-]*' | tr -d ' ,' | sort -u >"$tmp/options"
n=$(wc -l <"$tmp/options" | tr -d ' ')
[ "$n" -ge 20 ] || fail "found only $n options in braincore --help"
while read -r opt; do
	if ! grep -E -e "(^|[^a-z-])$opt([^a-z-]|\$)" "$tmp/page" >/dev/null; then
		fail "option '$opt' of --help is not in $page"
	fi
done <"$tmp/options"
echo "ok - the $n options of --help are described"

# 4. The sections a manual page has.
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
	grep -E "^\.SH \"?$section\"?\$" "$tmp/page" >/dev/null || fail "no section $section"
done
echo "ok - the page has its sections"

# 5. Every BRAINCORE_* variable the library or the tool reads.
vars=$(cd "$src" && grep -ho '"BRAINCORE_[A-Z_]*"' base storage index spine organs engine api tools \
	-r --include='*.c' --include='*.h' | tr -d '"' | sort -u)
[ -n "$vars" ] || fail "found no BRAINCORE_* variable in the sources"
for v in $vars; do
	sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$tmp/page" | grep -F "$v" >/dev/null ||
		fail "environment variable $v is not under ENVIRONMENT"
done
echo "ok - the environment variables: $(echo $vars)"

if [ "$failures" -ne 0 ]; then
	echo "check_manpage: $failures problems" >&2
	exit 1
fi
echo "check_manpage: all checks passed"
