#!/bin/sh
# The layer order of docs/architecture.md, bottom up:
#   base < storage < index < spine < organs < engine < api < consumers
# Each layer may use the public headers (include/), itself and the layers
# below it; organs never each other's headers (they talk through the
# Spine); tools/ only the public headers. The build already refuses an
# upward include (each layer compiles against a view of the layers below
# it, CMakeLists.txt); this test says so by name, and also checks the
# calls: no object file of a layer may use a function defined in a layer
# above it (nm), so there is no circle between layers either.
# usage: check_layers.sh SOURCE_DIR [BUILD_DIR]
set -eu
src=$1
build=${2:-}
cd "$src"
status=0
fail() { echo "FAIL: $*"; status=1; }

layers="base storage index spine organs engine api"

includes() { grep -hoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]+"' "$@" 2>/dev/null \
	| sed -E 's/.*"([^"]+)"/\1/'; }

# the layers at or below $1
below() {
	out=""
	for l in $layers; do
		out="$out $l"
		[ "$l" = "$1" ] && break
	done
	echo "$out"
}

# A layer's sources, its subfolders' too (an organ may be a small folder,
# organs/<organ>/), in a stable order.
sources() { find "$1" -type f \( -name '*.c' -o -name '*.h' \) | sort; }

for layer in $layers; do
	allowed=$(below "$layer")
	for f in $(sources "$layer"); do
		# the organ a file belongs to: its folder below organs/, else its
		# name up to the first '_' (organs/pancreas_tables.h: pancreas)
		case $f in
		organs/*/*) organ=${f#organs/}; organ=${organ%%/*} ;;
		*) organ=$(basename "$f" | sed -E 's/\.(c|h)$//; s/_.*//') ;;
		esac
		for i in $(includes "$f"); do
			case $i in braincore.h|braincore/*) continue ;; esac
			top=${i%%/*}
			ok=0
			for a in $allowed; do [ "$top" = "$a" ] && ok=1; done
			if [ $ok -eq 0 ]; then
				fail "$f includes $i ($layer/ may use only:$allowed)"
				continue
			fi
			if [ "$layer" = organs ] && [ "$top" = organs ]; then
				case $i in
				organs/"$organ".h|organs/"$organ"_*.h|organs/"$organ"/*.h) ;;
				*) fail "$f includes $i (organs talk through the Spine, never each other's headers)";;
				esac
			fi
		done
	done
done
# a source file's name says which one it is: no two share a name
dups=$(find $layers include tools tests bench -name '*.[ch]' -o -name '*.cpp' | sed 's|.*/||' |
	sort | uniq -d)
[ -z "$dups" ] || fail "source file names used twice: $(echo $dups)"
# every source folder of the library is a layer
for d in */; do
	d=${d%/}
	case " $layers include tools tests bench cmake docs pkgconfig build " in
	*" $d "*) ;;
	*) ls "$d"/*.c > /dev/null 2>&1 && fail "$d/ holds C sources but is not a layer" ;;
	esac
done
for f in tools/*.c tools/*.h; do
	[ -e "$f" ] || continue
	for i in $(includes "$f"); do
		case $i in
		braincore.h|braincore/*) ;;
		*/*) fail "$f (a consumer) includes $i" ;;
		esac
	done
done

# calls: a layer's objects use no function defined above it
if [ -n "$build" ] && command -v nm > /dev/null; then
	defs=$(mktemp)
	trap 'rm -f "$defs"' EXIT
	# a layer's object files; their paths mirror the sources', subfolders
	# included (CMakeFiles/braincore_organs.dir/organs/cortex/embed.c.o)
	objects() {
		d="$build"/CMakeFiles/braincore_"$1".dir/"$1"
		[ -d "$d" ] && find "$d" -type f -name '*.o' | sort
		return 0
	}
	# a module: one file, or the files of one job split up (an organ's
	# folder, index/hnsw_*.c with hnsw.c), which may call each other
	module() {
		case $1 in
		*/organs/*/*) m=${1%/*}; basename "$m" ;;
		*/index/*) basename "$1" .c.o | sed 's/_.*//' ;;
		*) basename "$1" .c.o ;;
		esac
	}
	for layer in $layers; do
		for o in $(objects "$layer"); do
			nm --defined-only "$o" |
				awk -v l="$layer" -v f="$(module "$o")" '$2 ~ /[TDBR]/ {print $3, l, f}'
		done
	done | sort -u > "$defs"
	edges=$(mktemp)
	trap 'rm -f "$defs" "$edges"' EXIT
	rank() { n=0; for l in $layers; do [ "$l" = "$1" ] && { echo $n; return; }; n=$((n + 1)); done; }
	for layer in $layers; do
		r=$(rank "$layer")
		for o in $(objects "$layer"); do
			for sym in $(nm --undefined-only "$o" | awk '{print $2}'); do
				owner=$(awk -v s="$sym" '$1 == s {print $2; exit}' "$defs")
				[ -n "$owner" ] || continue
				if [ "$(rank "$owner")" -gt "$r" ]; then
					fail "$(basename "$o") ($layer) calls $sym, defined in $owner/ above it"
				fi
				file=$(awk -v s="$sym" '$1 == s {print $3; exit}' "$defs")
				echo "$(module "$o") $file" >> "$edges"
			done
		done
	done
	# modules: no circle of calls between them either (tsort finds one; a
	# module that needs its caller gets a callback or a message)
	if ! loop=$(sort -u "$edges" | awk '$1 != $2' | tsort 2>&1 > /dev/null); then
		fail "a circle of calls between modules: $(echo "$loop" | tr '\n' ' ')"
	fi
fi
[ $status -eq 0 ] && echo "layer order holds (includes and calls)"
exit $status
