#!/bin/sh
# The compiled library keeps the prefetches that the hnsw graph walk asks
# for (index/graph.h, index/hnsw_internal.h).
# GCC once deleted every one of them without a word (a helper holding only
# __builtin_prefetch was found "const" and its calls dropped), and nothing
# but a benchmark could notice: this looks at the machine code itself.
# usage: check_codegen.sh LIBRARY
# Exit 77 (skipped) where objdump or a known prefetch mnemonic is missing.
set -eu
lib=$1
command -v objdump > /dev/null 2>&1 || { echo "SKIP: no objdump"; exit 77; }
case $(uname -m) in
x86_64 | amd64 | i?86) pattern='prefetch(t0|t1|t2|nta|w)' ;;
aarch64 | arm64) pattern='prfm' ;;
*) echo "SKIP: no prefetch mnemonic known for $(uname -m)"; exit 77 ;;
esac
n=$(objdump -d "$lib" | grep -cE "[[:space:]]$pattern[[:space:]]" || true)
if [ "$n" -lt 4 ]; then
	echo "FAIL: $lib holds $n prefetch instructions; the graph walk has at least 4 prefetch loops"
	exit 1
fi
echo "prefetch instructions in $lib: $n"
