#!/bin/sh
# The layer order of docs/architecture.md, enforced by includes:
#   consumers (tools/)  -> include/ only
#   api (src/*_api.c, brain.c, ...) -> anything below
#   organs/  -> src/ base and spine, index/, storage/, and only their own header
#   index/   -> src/base.h, storage/, index/
#   storage/ -> src/base.h, storage/
#   src/ base (errors, alloc, spine, ...) -> nothing of organs/, index/, storage/
# usage: check_layers.sh SOURCE_DIR
set -eu
cd "$1"
status=0
fail() { echo "FAIL: $*"; status=1; }

includes() { grep -hoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]+"' "$@" 2>/dev/null \
	| sed -E 's/.*"([^"]+)"/\1/'; }

for f in storage/*.c storage/*.h; do
	for i in $(includes "$f"); do
		case $i in src/base.h|storage/*|braincore.h|braincore/*) ;;
		*) fail "$f includes $i (storage/ may use only src/base.h and storage/)";; esac
	done
done
for f in index/*.c index/*.h; do
	for i in $(includes "$f"); do
		case $i in src/base.h|storage/*|index/*|braincore.h|braincore/*) ;;
		*) fail "$f includes $i (index/ may use only src/base.h, storage/ and index/)";; esac
	done
done
for f in organs/*.c organs/*.h; do
	organ=$(basename "$f" | sed -E 's/\.(c|h)$//; s/_.*//')
	for i in $(includes "$f"); do
		case $i in
		src/base.h|src/spine.h|src/hashmap.h|src/analysis.h|src/results.h|index/*|storage/*|braincore.h|braincore/*) ;;
		organs/"$organ".h|organs/"$organ"_*.h) ;;
		organs/*) fail "$f includes $i (organs talk through the Spine, never each other's headers)";;
		*) fail "$f includes $i (not a layer an organ may use)";; esac
	done
done
for f in src/base.h src/error.c src/alloc.c src/log.c src/util.c src/hashmap.* src/queue.* \
		src/analysis.* src/results.* src/spine.* src/messages.h; do
	for i in $(includes "$f"); do
		case $i in organs/*|index/*|storage/*) fail "$f (base) includes $i";; esac
	done
done
for f in tools/*.c tools/*.h; do
	[ -e "$f" ] || continue
	for i in $(includes "$f"); do
		case $i in braincore.h|braincore/*) ;;
		src/*|organs/*|index/*|storage/*) fail "$f (a consumer) includes $i";;
		esac
	done
done
[ $status -eq 0 ] && echo "layer order holds"
exit $status
