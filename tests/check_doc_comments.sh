#!/bin/sh
# The public headers are the specification: every public function has a
# doc comment right above it that says what it returns (its errors) and
# whether it is thread-safe.
# usage: check_doc_comments.sh INCLUDE_DIR
set -eu
inc=$1
status=0
for h in "$inc"/braincore.h "$inc"/braincore/*.h "$inc"/braincore/sys/*.h; do
	awk -v file="$h" '
		/^\/\*\*/ { doc = ""; in_doc = 1 }
		in_doc { doc = doc " " $0 }
		in_doc && /\*\// { in_doc = 0; last_doc_end = NR; next }
		/^(const )?[a-z_0-9]+[ *]+brain_[a-z0-9_]+\(/ {
			name = $0
			sub(/\(.*/, "", name)
			sub(/.*[ *]/, "", name)
			if (last_doc_end != NR - 1) {
				printf "FAIL: %s: %s has no doc comment right above it\n", file, name
				bad = 1
				next
			}
			if (doc !~ /[Rr]eturn/) {
				printf "FAIL: %s: %s: the comment does not say what it returns\n", file, name
				bad = 1
			}
			if (doc !~ /[Tt]hread/) {
				printf "FAIL: %s: %s: the comment does not say whether it is thread-safe\n", file, name
				bad = 1
			}
			n++
		}
		END { exit bad ? 1 : 0 }
	' "$h" || status=1
done
[ $status -eq 0 ] && echo "every public function says what it returns and its thread-safety"
exit $status
