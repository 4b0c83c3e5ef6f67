#!/bin/sh
# tests/test_cli.sh - behaviour of the braincore command-line tool.
#
# Usage: sh tests/test_cli.sh path/to/braincore [MODEL_FIXTURE_DIR]
# Needs jq to check the JSON output; fails (does not skip) without it.
# With the models of tests/model_fixture.sh, --model and embed-check are
# run on them too.

BC=$1
FIX=${2:-}
if [ -z "$BC" ] || [ ! -x "$BC" ]; then
	echo "test_cli: usage: test_cli.sh path/to/braincore (got '$BC')" >&2
	exit 1
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "test_cli: jq is required to check the JSON output; install jq" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

failures=0
count=0

ok() {
	count=$((count + 1))
	echo "ok $count - $1"
}

not_ok() {
	count=$((count + 1))
	failures=$((failures + 1))
	echo "not ok $count - $1"
	if [ -s "$tmp/err" ]; then
		echo "# stderr:"
		sed 's/^/#   /' "$tmp/err" | head -20
	fi
}

# run CMD...: run the tool, stdout in $tmp/out, stderr in $tmp/err, exit code in $rc.
run() {
	"$BC" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# run_in FILE CMD...: the same with FILE as stdin.
run_in() {
	in=$1
	shift
	"$BC" "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# expect_rc CODE NAME: the last run exited with CODE.
expect_rc() {
	if [ "$rc" -eq "$1" ]; then
		ok "$2"
	else
		not_ok "$2 (exit $rc, expected $1)"
	fi
}

# expect_jq NAME FILTER: jq -e FILTER holds on the last run's stdout.
expect_jq() {
	if jq -e "$2" "$tmp/out" >/dev/null 2>"$tmp/jqerr"; then
		ok "$1"
	else
		not_ok "$1 (jq: $2)"
		sed 's/^/#   /' "$tmp/jqerr" | head -5
	fi
}

# expect_err NAME TEXT: stderr of the last run contains TEXT.
expect_err() {
	if grep -F -e "$2" "$tmp/err" >/dev/null; then
		ok "$1"
	else
		not_ok "$1 (stderr lacks '$2')"
	fi
}

# ---------------------------------------------------------------- basics

run --version
expect_rc 0 "--version exits 0"
if grep -E '^braincore [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out" >/dev/null; then
	ok "--version prints the version"
else
	not_ok "--version prints the version"
fi

run --help
expect_rc 0 "--help exits 0"
if grep -F THINK_MAX_MEMORIES "$tmp/out" >/dev/null; then
	ok "--help lists the parameters"
else
	not_ok "--help lists the parameters"
fi

# ---------------------------------------------------------------- demo

run demo
expect_rc 0 "demo exits 0"
if [ -s "$tmp/out" ]; then ok "demo prints something"; else not_ok "demo prints something"; fi

run demo --json
expect_rc 0 "demo --json exits 0"
expect_jq "demo JSON parses and has its parts" \
	'(.version | type == "string") and (.dimensions | type == "number")
	 and (.params | type == "object") and (.memories | type == "array")
	 and (.recall | type == "array") and (.think | type == "array")'
expect_jq "demo remembers a corpus of about 40 memories" \
	'(.memories | length) >= 30 and all(.memories[]; (.id | type == "number")
	 and (.text | length > 0) and .importance >= 0 and .importance <= 1)'
expect_jq "demo recall shows the top 3 with ids and scores" \
	'(.recall | length) >= 3 and all(.recall[]; (.query | length > 0)
	 and (.results | length) == 3
	 and all(.results[]; (.id | type == "number") and (.score | type == "number")))'
expect_jq "demo recall scores are best first" \
	'all(.recall[]; .results[0].score >= .results[1].score and .results[1].score >= .results[2].score)'
expect_jq "every demo think has a non-empty answer" \
	'(.think | length) >= 4 and all(.think[]; (.input | length > 0) and (.answer | length > 0))'
expect_jq "demo has the answerable, paraphrase, follow-up and unknown questions" \
	'([.think[].kind] | contains(["answerable", "paraphrase", "follow-up", "unknown"]))'
expect_jq "the answerable question draws on memories" \
	'[.think[] | select(.kind == "answerable") | .memories | length] | all(. > 0)'
expect_jq "the unknown question draws on no memory (the brain does not know)" \
	'[.think[] | select(.kind == "unknown") | .memories | length] == [0]'
expect_jq "the unknown question's knows is false" \
	'[.think[] | select(.kind == "unknown") | .knows] == [false]'

run demo --json --dimensions 64
expect_rc 0 "demo --dimensions 64 exits 0"
expect_jq "demo --dimensions 64 uses 64 dimensions" '.dimensions == 64'

# ---------------------------------------------------------------- remember / recall

cat >"$tmp/mem.txt" <<'EOF'
The office wifi password is lantern-seven.

0.9	Marta's birthday is on the fourth of May.
Basil wilts in the fridge; keep it in water on the counter.
EOF

run remember --json -m "$tmp/mem.txt" "Saturn has more than a hundred known moons."
expect_rc 0 "remember -m FILE TEXT exits 0"
expect_jq "remember reports four memories with ids 1..4" \
	'.count == 4 and [.remembered[].id] == [1, 2, 3, 4]'
expect_jq "remember reads the importance before a TAB and skips empty lines" \
	'.remembered[1].importance == 0.9 and .remembered[1].line == 3
	 and .remembered[1].text == "Marta'"'"'s birthday is on the fourth of May."'
expect_jq "remember without a prefix uses importance 0.5" \
	'.remembered[0].importance == 0.5 and .remembered[3].importance == 0.5'

run remember --importance 0.25 "first" "second"
expect_rc 0 "remember TEXT TEXT exits 0"
if [ "$(cat "$tmp/out")" = "$(printf '1\n2')" ]; then
	ok "remember prints one id per line"
else
	not_ok "remember prints one id per line (got: $(cat "$tmp/out"))"
fi
run remember --json --importance 0.25 "first"
expect_jq "--importance sets the importance" '.remembered[0].importance == 0.25'

run recall --json -m "$tmp/mem.txt" "when is Marta's birthday"
expect_rc 0 "recall -m FILE exits 0"
expect_jq "recall --json finds the matching memory first" \
	'.queries[0].results[0].id == 2
	 and (.queries[0].results[0].text | startswith("Marta"))'
expect_jq "recall results carry score and importance" \
	'.queries[0].results[0].score > 0 and .queries[0].results[0].importance == 0.9'

run_in "$tmp/mem.txt" recall --json -k 1 -m - "wifi password"
expect_rc 0 "recall -m - (stdin) exits 0"
expect_jq "recall from stdin finds the wifi memory, and -k 1 gives one" \
	'.queries[0].results == [.queries[0].results[0]] and .queries[0].results[0].id == 1'

run recall -m "$tmp/mem.txt" "wifi password"
expect_rc 0 "recall (text output) exits 0"
if head -n 1 "$tmp/out" | grep -F "#1" | grep -F "wifi" >/dev/null; then
	ok "recall text output shows the id and text"
else
	not_ok "recall text output shows the id and text"
fi

run recall --json "anything"
expect_rc 0 "recall on an empty brain exits 0"
expect_jq "recall on an empty brain finds nothing" '.queries[0].results == []'

# JSON escaping of any text: quotes, backslashes, tabs, control characters, UTF-8.
weird=$(printf 'say "hi" \\ back\ttab \001\037 ctl \342\202\254 euro')
run remember --json "$weird"
expect_rc 0 "remember text with quotes and control characters exits 0"
if [ "$(jq -r '.remembered[0].text' "$tmp/out" 2>/dev/null)" = "$weird" ]; then
	ok "JSON round-trips quotes, backslashes and control characters"
else
	not_ok "JSON round-trips quotes, backslashes and control characters"
fi

# ---------------------------------------------------------------- think

cat >"$tmp/think.txt" <<'EOF'
The Eiffel Tower stands in Paris on the Champ de Mars.
The Eiffel Tower is about 330 metres tall.
The Eiffel Tower was completed in 1889 for a world's fair.
Penguins cannot fly but swim very well.
EOF

run think --json -m "$tmp/think.txt" "Tell me about the Eiffel Tower" "And when was it built?"
expect_rc 0 "think exits 0"
expect_jq "think answers each input" \
	'(.thoughts | length) == 2 and all(.thoughts[]; .answer | length > 0)'
expect_jq "think without a limit draws on several memories" '(.thoughts[0].memories | length) > 1'

run think --json "Who painted the Mona Lisa?"
expect_rc 0 "think on an empty brain exits 0"
expect_jq "think on an empty brain answers, from no memory" \
	'(.thoughts[0].answer | length > 0) and (.thoughts[0].memories | length) == 0'

run think --json --param THINK_MAX_MEMORIES=1 -m "$tmp/think.txt" "Tell me about the Eiffel Tower"
expect_rc 0 "think --param THINK_MAX_MEMORIES=1 exits 0"
expect_jq "--param THINK_MAX_MEMORIES=1 limits a think to one memory" \
	'(.thoughts[0].memories | length) == 1'

run think --param think_max_memories=1 -m "$tmp/think.txt" "Tell me about the Eiffel Tower"
expect_rc 0 "parameter names are case-insensitive"

run think -m "$tmp/think.txt" "How tall is the Eiffel Tower?"
expect_rc 0 "think (text output) exits 0"
if grep -F "330" "$tmp/out" >/dev/null; then
	ok "think text output shows the answer"
else
	not_ok "think text output shows the answer"
fi

# ---------------------------------------------------------------- on-disk brains (--db)

# flip_byte FILE OFFSET: replace the byte at OFFSET with its complement.
flip_byte() {
	byte=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf '%o' $((255 - byte)))" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}

db="$tmp/brain"
run remember --json --db "$db" "The spare key is under the blue flowerpot." \
	"The dentist appointment is on Thursday at nine."
expect_rc 0 "remember --db DIR exits 0 and creates the brain"
expect_jq "remember --db gives ids 1 and 2" '[.remembered[].id] == [1, 2]'
if [ -d "$db" ] && ls "$db"/ckpt-* >/dev/null 2>&1; then
	ok "--db DIR holds a checkpoint file after remember"
else
	not_ok "--db DIR holds a checkpoint file after remember"
fi

run remember --json --db "$db" --sync normal "Lunch with Priya is moved to Friday."
expect_rc 0 "a second process remembers into the same brain (--sync normal)"
expect_jq "ids go on where the first process stopped" '[.remembered[].id] == [3]'

run recall --json --db "$db" "where is the spare key"
expect_rc 0 "recall --db in another process exits 0"
expect_jq "recall --db finds the memory under the id remember gave it" \
	'.memories == 3 and .queries[0].results[0].id == 1
	 and (.queries[0].results[0].text | startswith("The spare key"))'

run recall --json --db "$db" --read-only "dentist"
expect_rc 0 "recall --db --read-only exits 0"
expect_jq "recall --read-only finds the dentist memory" '.queries[0].results[0].id == 2'

run think --json --db "$db" --sync off "When is lunch with Priya?"
expect_rc 0 "think --db --sync off exits 0"
expect_jq "think --db draws on the stored memories" \
	'.memories == 3 and (.thoughts[0].memories | map(.id) | index(3) != null)'

run stats --json "$db"
expect_rc 0 "stats DIR exits 0"
expect_jq "stats --json shows the count and the brain's options" \
	'.memories == 3 and .text_memories == 3 and .dimensions == 384
	 and .metric == "cosine" and .on_disk == true and .read_only == true
	 and (.sync | type == "string") and .generation >= 1
	 and (.checkpoint_bytes | type == "number") and (.wal_bytes | type == "number")
	 and (.last_lsn | type == "number") and (.durable_lsn | type == "number")
	 and (.checkpoint_lsn | type == "number") and (.index_bytes | type == "number")
	 and (.checkpoints | type == "number")'
expect_jq "stats --json shows the heap the brain held, by structure" \
	'.heap_bytes.total > 0 and .heap_bytes.peak >= .heap_bytes.total
	 and .heap_bytes.records > 0 and .heap_bytes.index > 0
	 and .heap_bytes.total == (.heap_bytes.records + .heap_bytes.index + .heap_bytes.embedder
	                           + .heap_bytes.log + .heap_bytes.results + .heap_bytes.other)'
run stats "$db"
expect_rc 0 "stats DIR (text output) exits 0"
if grep -E '^memories +3 ' "$tmp/out" >/dev/null; then
	ok "stats text output shows the count"
else
	not_ok "stats text output shows the count"
fi
run --db "$db" stats --json
expect_rc 0 "stats also takes the directory from --db"
expect_jq "stats via --db shows the count" '.memories == 3'

run check "$db"
expect_rc 0 "check on a good brain exits 0"
if grep -F "intact" "$tmp/out" >/dev/null; then ok "check says intact"; else not_ok "check says intact"; fi
run check --json "$db"
expect_rc 0 "check --json on a good brain exits 0"
expect_jq "check --json reports ok and the counters" \
	'.ok == true and .error == null and .memories == 3 and .generation >= 1
	 and .bytes_verified > 0 and (.checkpoint_lsn | type == "number")
	 and (.wal_records | type == "number") and .wal_torn_bytes == 0'

# Dimensions come from the brain on disk unless given, and must then match.
db64="$tmp/brain64"
run remember --db "$db64" --dimensions 64 "A brain of sixty-four dimensions."
expect_rc 0 "remember --db --dimensions 64 creates a 64-d brain"
run recall --json --db "$db64" "sixty-four"
expect_rc 0 "recall --db without --dimensions opens the 64-d brain"
expect_jq "the 64-d brain's memory is found" '.queries[0].results[0].id == 1'
run stats --json "$db64"
expect_jq "stats shows the stored 64 dimensions" '.dimensions == 64'
run recall --db "$db64" --dimensions 64 "sixty-four"
expect_rc 0 "--dimensions matching the brain on disk is accepted"
run recall --db "$db64" --dimensions 128 "sixty-four"
expect_rc 1 "--dimensions 128 on a 64-d brain exits 1"
expect_err "the mismatch is reported as EMISMATCH" "EMISMATCH"
expect_err "the mismatch message mentions dimensions" "dimensions"

# A damaged checkpoint: check finds it.
bad="$tmp/damaged"
cp -R "$db" "$bad"
ckpt=
for f in "$bad"/ckpt-*; do ckpt=$f; done # the newest: the names end in the generation in hex
if [ -n "$ckpt" ] && [ -f "$ckpt" ]; then
	size=$(wc -c <"$ckpt" | tr -d ' ')
	off=$((size / 2))
	if [ "$size" -gt 16384 ]; then off=8192; fi
	flip_byte "$ckpt" "$off"
	if cmp -s "$ckpt" "$db/${ckpt##*/}"; then
		not_ok "flipping a byte of the checkpoint changed it"
	else
		ok "flipping a byte of the checkpoint changed it"
	fi
	run check --json "$bad"
	expect_rc 1 "check on a damaged checkpoint exits 1"
	expect_jq "check --json says not ok, ECORRUPT, with a message" \
		'.ok == false and .error.code == "ECORRUPT" and (.error.message | length > 0)'
	expect_err "check reports ECORRUPT on stderr" "ECORRUPT"
	run check "$bad"
	expect_rc 1 "check (text output) on a damaged checkpoint exits 1"
else
	not_ok "the brain directory holds a ckpt-* file to damage"
fi

run stats "$tmp/no-such-brain"
expect_rc 1 "stats on a missing directory exits 1"
if [ -e "$tmp/no-such-brain" ]; then
	not_ok "stats does not create a brain"
else
	ok "stats does not create a brain"
fi
run check --json "$tmp/no-such-brain"
expect_rc 1 "check on a missing directory exits 1"
expect_jq "check --json on a missing directory says not ok" '.ok == false and (.error.code | length > 0)'
run recall --db "$tmp/no-such-brain" --read-only "x"
expect_rc 1 "recall --read-only on a missing brain exits 1"

run remember --db /proc/nonexistent/x "cannot be stored"
expect_rc 1 "--db with an unwritable path exits 1"
expect_err "an unwritable --db path is reported" "braincore: "

run remember --db "$db" --read-only "x"
expect_rc 2 "remember --read-only is a usage error"
run demo --db "$db"
expect_rc 2 "demo --db is a usage error"
run recall --sync full "x"
expect_rc 2 "--sync without --db is a usage error"
run recall --db "$db" --sync sometimes "x"
expect_rc 2 "an unknown --sync mode exits 2"
run check
expect_rc 2 "check without DIR exits 2"
run check "$db" "$db64"
expect_rc 2 "check with two directories exits 2"
run stats --dimensions 64 "$db64"
expect_rc 2 "stats --dimensions exits 2"

# ---------------------------------------------------------------- metadata and filters

md="$tmp/meta"
run --db "$md" remember --meta '{"kind":"note","ts":1700000000,"tags":["billing"]}' \
	"The invoice for March was paid late."
expect_rc 0 "remember --meta exits 0"
run --db "$md" remember --meta '{"kind":"todo","ts":1700500000}' "Pay the invoice for April."
expect_rc 0 "a second remember --meta exits 0"
run --db "$md" recall --json --where 'kind = "todo"' invoice
expect_rc 0 "recall --where exits 0"
expect_jq "recall --where returns only what passes, with its metadata" \
	'.queries[0].results | length == 1 and .[0].metadata.kind == "todo" and .[0].metadata.ts == 1700500000'
run --db "$md" recall --json --where 'tags CONTAINS "billing" AND ts < 1700100000' invoice
expect_jq "recall --where with CONTAINS and a range" \
	'.queries[0].results | length == 1 and .[0].metadata.tags == ["billing"]'
run --db "$md" recall --json --where 'NOT kind EXISTS' invoice
expect_jq "a filter nothing passes gives no results" '.queries[0].results | length == 0'
run --db "$md" recall --where 'kind = ' invoice
expect_rc 1 "a filter that does not parse exits 1"
expect_err "its message names the position" "at byte 7"
run --db "$md" remember --meta '{"kind":5}' x
expect_rc 1 "metadata of another type than its field exits 1"
expect_err "its message names the field" '"kind"'
run --db "$md" remember --meta '{"kind":' x
expect_rc 1 "malformed metadata exits 1"
expect_err "its code is EJSON" "EJSON"
run --db "$md" think --where 'a = 1' x
expect_rc 2 "--where is an option of recall only"
run --db "$md" recall --meta '{}' x
expect_rc 2 "--meta is an option of remember only"

run --db "$md" recall --json --mode keyword '"for april"' invoice
expect_jq "recall --mode keyword finds the phrase" \
	'.queries[0].results | length == 1 and (.[0].text | test("April"))'
run --db "$md" recall --json --mode hybrid --where 'kind = "note"' invoice
expect_jq "recall --mode hybrid with --where" '.queries[0].results | length == 1 and .[0].metadata.kind == "note"'
run --db "$md" recall --mode fuzzy invoice
expect_rc 2 "--mode takes semantic, keyword or hybrid"
run --db "$md" relate 1 2 billed_with
expect_rc 0 "relate exits 0"
run --db "$md" relate --weight 0.25 2 1 follows
expect_rc 0 "relate --weight exits 0"
run --db "$md" neighbors --json 1
expect_jq "neighbors lists both edges with verbs and weights" \
	'.relations | length == 2 and any(.verb == "billed_with" and .from == 1 and .to == 2) and any(.verb == "follows" and .weight == 0.25)'
run --db "$md" neighbors --json --dir out --verb follows 2
expect_jq "neighbors --dir --verb narrow the list" '.relations | length == 1 and .[0].to == 1'
run --db "$md" relate 1 99 knows
expect_rc 1 "relate to a missing memory exits 1"
expect_err "its message names the id" "99"
run --db "$md" relate 1 2
expect_rc 2 "relate needs three arguments"
run --db "$md" neighbors --dir sideways 1
expect_rc 2 "--dir takes out, in or both"

# ---------------------------------------------------------------- keys and documents

kd="$tmp/keys"
run --db "$kd" --json remember --key user:1 "Ana likes tea"
expect_jq "remember --key stores the key" '.remembered[0].metadata["@key"] == "user:1"'
run --db "$kd" --json remember --key user:1 "Ana likes coffee now"
expect_jq "remember --key again keeps the id and replaces the text" \
	'.remembered[0].id == 1 and .remembered[0].text == "Ana likes coffee now"'
run --db "$kd" remember --key k one two
expect_rc 2 "--key takes one TEXT"
run --db "$kd" recall --key k x
expect_rc 2 "--key is an option of remember"
printf 'Resetting your password. Open the account page.\n\nBilling. Invoices are issued monthly. Refunds take ten days.\n' >"$tmp/hb.txt"
run --db "$kd" --json document --size 40 handbook "$tmp/hb.txt"
expect_jq "document cuts the file into passages" '.key == "handbook" and .passages == 4'
run --db "$kd" --json recall -k 1 --where '`@doc` = "handbook"' "when do refunds come"
expect_jq "a passage names its document and place" \
	'.queries[0].results[0].metadata["@doc"] == "handbook" and (.queries[0].results[0].metadata["@part"] | type) == "number"'
run --db "$kd" --json document --size 40 handbook "$tmp/hb.txt"
run --db "$kd" --json recall -k 10 --where '`@doc` = "handbook"' "password"
expect_jq "a document put again replaces its passages (1 keyed memory, 4 passages)" \
	'.memories == 5'
run --db "$kd" document handbook "$tmp/missing.txt"
expect_rc 1 "document of a missing file exits 1"
run --db "$kd" document --size 8 handbook "$tmp/hb.txt"
expect_rc 1 "document --size below the chunker's least exits 1"
run --db "$kd" document handbook
expect_rc 2 "document needs KEY FILE"

# ---------------------------------------------------------------- import and export (JSON Lines)

# jsonl_eq NAME A B: the JSON Lines files A and B hold the same rows (jq -S),
# each without the fields named in $drop (default: created).
jsonl_eq() {
	jq -S -c "del(${drop:-.created})" "$2" >"$tmp/eq_a" 2>/dev/null &&
		jq -S -c "del(${drop:-.created})" "$3" >"$tmp/eq_b" 2>/dev/null &&
		cmp -s "$tmp/eq_a" "$tmp/eq_b"
}

cat >"$tmp/in.jsonl" <<'EOF'
{"text":"The spare key is under the blue flowerpot.","importance":0.9,"metadata":{"kind":"note","tags":["home"],"ts":1700000000}}
{"text":"Ana likes tea","key":"user:1","metadata":{"kind":"pref","score":0.25,"done":false}}

{"text":"The dentist is on Thursday at nine.","valid_from":1700000000000,"valid_until":1800000000000}
{"text":"Escapes: \"q\" \\ \/ \t tab \u00e9 \ud83d\ude00 end","importance":0.125}
{"text":"A second note about the garden.","metadata":{"kind":"note"},"id":12345,"created":1}
EOF
io="$tmp/io"
run --db "$io" import "$tmp/in.jsonl"
expect_rc 0 "import FILE exits 0"
if grep -E '^imported 5 memories from .*in.jsonl \(5 lines' "$tmp/out" >/dev/null; then
	ok "import says how many memories it imported"
else
	not_ok "import says how many memories it imported (got: $(cat "$tmp/out"))"
fi
if [ -s "$tmp/err" ]; then not_ok "import writes nothing on stderr when it is not a terminal"; else
	ok "import writes nothing on stderr when it is not a terminal (no progress bar)"; fi
run --db "$io" list --json
expect_jq "import keeps texts, keys, importance and metadata; a text's id is the brain's" \
	'.count == 5 and [.memories[].id] == [1, 2, 3, 4, 5]
	 and .memories[0].importance == 0.9 and .memories[0].metadata.tags == ["home"]
	 and .memories[1].key == "user:1" and .memories[1].importance == 0.5
	 and .memories[2].metadata["@valid_until"] == 1800000000000
	 and .memories[3].text == "Escapes: \"q\" \\ / \t tab \u00e9 \ud83d\ude00 end"
	 and .memories[3].importance == 0.125'
run --db "$io" export
expect_rc 0 "export to stdout exits 0"
cp "$tmp/out" "$tmp/ex1.jsonl"
if [ "$(wc -l <"$tmp/ex1.jsonl" | tr -d ' ')" = 5 ] && jq -e . "$tmp/ex1.jsonl" >/dev/null 2>&1; then
	ok "export writes one JSON object a line"
else
	not_ok "export writes one JSON object a line"
fi
if jq -s -e '.[1].key == "user:1" and (.[1].metadata | has("@key") | not)
	and .[2].valid_from == 1700000000000 and .[2].valid_until == 1800000000000
	and .[2].metadata == {} and all(.[]; has("id") and has("created") and (has("vector") | not))
	and .[0].metadata == {"kind":"note","tags":["home"],"ts":1700000000}' "$tmp/ex1.jsonl" >/dev/null; then
	ok "export: the key and validity in fields of their own, no '@' field in the metadata"
else
	not_ok "export: the key and validity in fields of their own, no '@' field in the metadata"
fi
run_in "$tmp/ex1.jsonl" --db "$tmp/io2" import -
expect_rc 0 "export | import (stdin) into a new brain exits 0"
run --db "$tmp/io2" export "$tmp/ex2.jsonl"
expect_rc 0 "export FILE exits 0"
if jsonl_eq x "$tmp/ex1.jsonl" "$tmp/ex2.jsonl"; then
	ok "export | import round-trips texts, keys, importance, validity and metadata"
else
	not_ok "export | import round-trips texts, keys, importance, validity and metadata"
	diff "$tmp/eq_a" "$tmp/eq_b" | head -5 | sed 's/^/#   /'
fi
if ls "$tmp"/ex2.jsonl.tmp-* >/dev/null 2>&1; then not_ok "export FILE leaves no temporary file"; else
	ok "export FILE leaves no temporary file"; fi
run --db "$tmp/io2" export --json "$tmp/ex3.jsonl"
expect_jq "export --json FILE reports the count" '.exported == 5 and .vectors == false'

# Vectors: as stored, and back as given; a row without text is a vector under its id.
awk 'BEGIN { for (r = 0; r < 3; r++) { printf "{\"id\":%d,\"vector\":[", 1000 + r;
	for (i = 0; i < 384; i++) printf "%s%g", i ? "," : "", (i == r) + 0.25; printf "],\"metadata\":{\"n\":%d}}\n", r } }' \
	>"$tmp/vec.jsonl"
run --db "$io" import "$tmp/vec.jsonl"
expect_rc 0 "import of vectors under their ids exits 0"
run --db "$io" export --vectors "$tmp/v1.jsonl"
expect_rc 0 "export --vectors exits 0"
if jq -s -e 'length == 8 and all(.[]; (.vector | length) == 384) and .[5].id == 1000
	and (.[5] | has("text") | not) and .[5].metadata == {"n":0}' "$tmp/v1.jsonl" >/dev/null; then
	ok "export --vectors writes each memory's 384 numbers; a vector keeps its id"
else
	not_ok "export --vectors writes each memory's 384 numbers; a vector keeps its id"
fi
run --db "$tmp/io3" import "$tmp/v1.jsonl"
expect_rc 0 "import of an export --vectors exits 0"
run --db "$tmp/io3" export --vectors "$tmp/v2.jsonl"
if jsonl_eq x "$tmp/v1.jsonl" "$tmp/v2.jsonl"; then
	ok "export --vectors | import round-trips vectors bit for bit (a built-in brain stores a given vector as given)"
else
	not_ok "export --vectors | import round-trips vectors bit for bit"
	diff "$tmp/eq_a" "$tmp/eq_b" | head -3 | cut -c1-200 | sed 's/^/#   /'
fi
run --db "$io" export --where 'kind = "note"'
expect_rc 0 "export --where exits 0"
if [ "$(jq -s -c '[.[].id]' "$tmp/out" 2>/dev/null)" = "[1,5]" ]; then
	ok "export --where writes only what the filter passes"
else
	not_ok "export --where writes only what the filter passes (got $(jq -s -c '[.[].id]' "$tmp/out"))"
fi
run --db "$io" export --where 'kind = '
expect_rc 1 "export --where with a bad filter exits 1"
expect_err "the bad filter is named" "EFILTER"

# A bad line stops the import at its line; the lines before it stay.
printf '{"text":"first line"}\n{"text":"second line"}\n{"text":"third", }\n{"text":"fourth line"}\n' >"$tmp/bad.jsonl"
run --db "$tmp/bad1" import "$tmp/bad.jsonl"
expect_rc 1 "a bad JSON line stops the import with exit 1"
expect_err "the message names the file and the line" "bad.jsonl:3: EJSON: at byte 17"
expect_err "the message says how many were imported before it" "line 3; 2 memories from the lines before it were imported"
run --db "$tmp/bad1" list --json
expect_jq "the lines before the bad one are kept, none after it" \
	'[.memories[].text] == ["first line", "second line"]'
run --db "$tmp/bad1" --json import "$tmp/bad.jsonl"
expect_jq "import --json reports the stop: line, code and message" \
	'.ok == false and .imported == 2 and .error.line == 3 and .error.code == "EJSON"
	 and (.error.message | test("at byte"))'
run --db "$tmp/bad2" import --skip-bad "$tmp/bad.jsonl"
expect_rc 3 "import --skip-bad exits 3 when it skipped a line"
expect_err "--skip-bad reports the bad line" "bad.jsonl:3: EJSON"
expect_err "--skip-bad says it skipped it" "(line skipped)"
run --db "$tmp/bad2" --json import --skip-bad "$tmp/bad.jsonl"
expect_rc 3 "import --skip-bad --json exits 3"
expect_jq "import --skip-bad --json lists the skipped line" \
	'.imported == 3 and .skipped == 1 and .skipped_lines == [3] and .error == null'

# JSON that is unusual but valid: a byte order mark, CRLF line ends, white
# space, escapes of every kind, exponents, null fields.
{
	printf '\357\273\277{"text":"bom and crlf"}\r\n'
	printf '  {  "text" : "\\u0041\\u00e9\\u20ac\\ud834\\udd1e \\b\\f\\n\\r\\t\\\\ \\/" , "importance" : 5E-1 }  \n'
	printf '{"text":"exponent","importance":0.25e0,"key":null,"vector":null,"metadata":{"a":[],"b":-1.5e-3,"c":"\\"q\\""}}\n'
	printf '{"text":"zero","importance":-0}\n'
} >"$tmp/odd.jsonl"
run --db "$tmp/odd" import "$tmp/odd.jsonl"
expect_rc 0 "unusual but valid JSON lines are imported"
run --db "$tmp/odd" list --json
expect_jq "their values are read exactly" \
	'[.memories[].text] == ["bom and crlf", "A\u00e9\u20ac\ud834\udd1e \b\f\n\r\t\\ /", "exponent", "zero"]
	 and [.memories[].importance] == [0.5, 0.5, 0.25, 0]
	 and .memories[2].metadata == {"a":[],"b":-0.0015,"c":"\"q\""}'

# Every kind of bad line, each reported with its number (--skip-bad), none imported.
{
	printf '{"text":"not UTF-8 \377 here"}\n'
	printf '{"text":"x", "vector":[1,2,3]}\n'
	printf '{"text":"x", "importance":NaN}\n'
	printf '{"text":"x", "importance":2}\n'
	printf '{"text":"trailing comma",}\n'
	printf "{'text':'single quotes'}\n"
	printf '{"text":"x", "importance":01}\n'
	printf '{"text":"x"} // a comment\n'
	printf '{"text":"a\tcontrol character"}\n'
	printf '{"text":"lone \\ud800 surrogate"}\n'
	printf '{"text":"x"}{"text":"y"}\n'
	printf '["not", "an", "object"]\n'
	printf '{"text":"x", "bogus":1}\n'
	printf '{"text":"x", "text":"y"}\n'
	printf '{"text":5}\n'
	printf '{"text":"nul \\u0000 inside"}\n'
	printf '{"text":""}\n'
	printf '{"id":7}\n'
	printf '{"text":"x", "metadata":{"a":{"b":1}}}\n'
	printf '{"text":"x", "metadata":[1]}\n'
	printf '{"text":"x", "valid_from":5, "valid_until":4}\n'
	printf '{"text":"nul \000 raw"}\n'
	printf '%s\n' "$(awk 'BEGIN { while (i++ < 70) printf "[" }')"
	printf '{"text":"x", "vector":[%s1e999]}\n' "$(awk 'BEGIN { while (i++ < 383) printf "0.5," }')"
	printf '{"text":"%s"}\n' "$(awk 'BEGIN { while (i++ < 100000) printf "a" }')"
	printf '{"text":"x", "importance":1e39}\n'
	printf '{"text":"x", "vector":[%s0.5], "metadata":{"a":{"b":1}}}\n' "$(awk 'BEGIN { while (i++ < 383) printf "0.5," }')"
} >"$tmp/many.jsonl"
nbad=$(wc -l <"$tmp/many.jsonl" | tr -d ' ')
run --db "$tmp/bad3" --json import --skip-bad "$tmp/many.jsonl"
expect_rc 3 "a file of bad lines: exit 3 with --skip-bad, no crash"
expect_jq "every bad line is skipped and none imported" \
	".imported == 0 and .skipped == $nbad and (.skipped_lines | length) == $nbad"
for want in "many.jsonl:1: EUTF8" "many.jsonl:2: EDIM: the vector has 3 numbers" \
	"many.jsonl:3: EJSON: at byte" "many.jsonl:4: ERANGE" "many.jsonl:10: EJSON" \
	"many.jsonl:13: EJSON: unknown field" "many.jsonl:14: EJSON: \"text\" is given twice" \
	"many.jsonl:16: EUTF8" "many.jsonl:17: EEMPTY" "many.jsonl:19: EJSON: remember: metadata" \
	"many.jsonl:21: ERANGE" "many.jsonl:22: EJSON" "many.jsonl:23: EJSON: at byte 64: nested deeper" \
	"many.jsonl:24: ENONFINITE" "many.jsonl:25: ETOOLONG" "many.jsonl:26: ERANGE" "many.jsonl:27: EJSON"; do
	expect_err "bad line reported: $want" "$want"
done
run --db "$tmp/bad3" list --json
expect_jq "nothing of the bad lines entered the brain" '.count == 0'
printf '{"text":"good"}\n{"text":"bad \377"}\n' >"$tmp/utf.jsonl"
run --db "$tmp/bad4" import "$tmp/utf.jsonl"
expect_rc 1 "invalid UTF-8 in a text stops the import with exit 1"
expect_err "invalid UTF-8: the line is named" "utf.jsonl:2: EUTF8"
printf '{"text":"a","metadata":{"kind":"note"}}\n{"text":"b","metadata":{"kind":5}}\n' >"$tmp/type.jsonl"
run --db "$tmp/bad5" import "$tmp/type.jsonl"
expect_rc 1 "metadata of another type than its field stops the import"
expect_err "the type error names the line and the field" 'type.jsonl:2: ETYPE: remember: metadata: field "kind"'
printf '{"text":"%s"}\n' "$(awk 'BEGIN { while (i++ < 300000) printf "word " }')" >"$tmp/huge.jsonl"
run --db "$tmp/bad4" import "$tmp/huge.jsonl"
expect_rc 1 "a 1.5 MB line exits 1"
expect_err "a 1.5 MB line: its number and ETOOLONG" "huge.jsonl:1: ETOOLONG"
# a line of millions of numbers is refused while it is read, never parsed
# (it would take gigabytes): the next line is imported with --skip-bad
{ printf '{"id":9,"vector":['; awk 'BEGIN { while (i++ < 2000000) printf "1," }'
  printf '1]}\n{"text":"after the long line"}\n'; } >"$tmp/long.jsonl"
run --db "$tmp/bad6" import --skip-bad "$tmp/long.jsonl"
expect_rc 3 "a 4 MB line of numbers is skipped with --skip-bad (exit 3)"
expect_err "the long line is named, ETOOLONG" "long.jsonl:1: ETOOLONG"
run --db "$tmp/bad6" --json list
expect_jq "the line after the long one is imported" '.memories | length == 1'
run --db "$tmp/bad4" import "$tmp/does-not-exist.jsonl"
expect_rc 1 "import of a missing file exits 1"
run import "$tmp/in.jsonl"
expect_rc 2 "import without --db is a usage error"
run --db "$tmp/bad4" import
expect_rc 2 "import without FILE is a usage error"
run --db "$tmp/bad4" import --read-only "$tmp/in.jsonl"
expect_rc 2 "import --read-only is a usage error"
run --db "$tmp/bad4" import --batch 0 "$tmp/in.jsonl"
expect_rc 2 "import --batch 0 is a usage error"
run --db "$tmp/bad4" export --skip-bad
expect_rc 2 "--skip-bad is not an option of export"

# Batches: the same brain whatever the batch size, importance changes included.
awk 'BEGIN { for (i = 0; i < 300; i++) printf "{\"text\":\"batch line %d about item %d\",\"importance\":%s}\n", i, i % 17, (i % 50 < 25) ? "0.25" : "0.75" }' >"$tmp/b300.jsonl"
run --db "$tmp/bt1" import --batch 1 "$tmp/b300.jsonl"
run --db "$tmp/bt1" export "$tmp/bt1.jsonl"
run --db "$tmp/bt2" import --batch 64 "$tmp/b300.jsonl"
run --db "$tmp/bt2" export "$tmp/bt2.jsonl"
if jsonl_eq x "$tmp/bt1.jsonl" "$tmp/bt2.jsonl" && [ "$(wc -l <"$tmp/bt1.jsonl" | tr -d ' ')" = 300 ]; then
	ok "import --batch 1 and --batch 64 make the same brain"
else
	not_ok "import --batch 1 and --batch 64 make the same brain"
fi

# The progress bar: only when stderr is a terminal (script(1) gives it one).
if command -v script >/dev/null 2>&1 && script -qc true /dev/null >/dev/null 2>&1; then
	script -qc "sh -c '(head -n 100 \"$tmp/b300.jsonl\"; sleep 0.4; tail -n +101 \"$tmp/b300.jsonl\") | \"$BC\" --db \"$tmp/bt3\" import -'" \
		/dev/null >"$tmp/typescript" 2>&1 </dev/null
	if grep -a -F "lines/s" "$tmp/typescript" >/dev/null && grep -a -F "imported 300 memories" "$tmp/typescript" >/dev/null; then
		ok "import draws a progress bar (lines/s) when stderr is a terminal"
	else
		not_ok "import draws a progress bar (lines/s) when stderr is a terminal"
		tr '\r' '\n' <"$tmp/typescript" | head -5 | sed 's/^/#   /'
	fi
else
	echo "# skipped: the progress bar on a terminal (util-linux script(1) is not available)"
fi

# ---------------------------------------------------------------- get, list, forget

run --db "$io" get 2 1
expect_rc 0 "get ID ID exits 0"
if grep -F "user:1" "$tmp/out" >/dev/null && grep -F "created" "$tmp/out" >/dev/null; then
	ok "get shows the key and the times"
else
	not_ok "get shows the key and the times"
fi
run --db "$io" get --json 2 1000
expect_jq "get --json shows text, key, importance, times and metadata, in the order asked" \
	'[.memories[].id] == [2, 1000] and .memories[0].key == "user:1" and .memories[0].text == "Ana likes tea"
	 and (.memories[0].created | type == "number") and (.memories[0].accessed | type == "number")
	 and .memories[0].metadata.kind == "pref" and .memories[1].text == null'
run --db "$io" get 1 99
expect_rc 1 "get of a missing id exits 1"
expect_err "get names the missing id" "99"
if [ -s "$tmp/out" ]; then not_ok "get of a missing id prints nothing"; else ok "get of a missing id prints nothing"; fi
run --db "$io" get x
expect_rc 2 "get of a bad id is a usage error"
run --db "$io" get
expect_rc 2 "get needs an ID"
run --db "$io" list --json --limit 2
expect_jq "list --limit gives the first ones and where to go on" \
	'[.memories[].id] == [1, 2] and .next_after == 2 and .count == 2'
run --db "$io" list --json --after 2 --limit 100
expect_jq "list --after goes on from there" '[.memories[].id] == [3, 4, 5, 1000, 1001, 1002] and .next_after == null'
run --db "$io" list --json --where 'n >= 1'
expect_jq "list --where lists what passes" '[.memories[].id] == [1001, 1002]'
run --db "$io" list
expect_rc 0 "list (text output) exits 0"
if grep -E '^#1 +importance 0.90  The spare key' "$tmp/out" >/dev/null; then
	ok "list text output: id, importance, text"
else
	not_ok "list text output: id, importance, text"
fi
run --db "$io" list extra
expect_rc 2 "list takes no arguments"
run --db "$tmp/nx-list" list
expect_rc 1 "list of a missing brain exits 1"
if [ -e "$tmp/nx-list" ]; then not_ok "list does not create a brain"; else ok "list does not create a brain"; fi

cp -R "$io" "$tmp/fg"
run --db "$tmp/fg" forget 1 99
expect_rc 1 "forget of a missing id exits 1"
expect_err "forget says nothing was forgotten" "nothing was forgotten"
run --db "$tmp/fg" --json forget 1 1000 1
expect_rc 0 "forget ID... exits 0"
expect_jq "forget --json says how many" '.forgotten == 2 and .ids == [1, 1000, 1]'
run --db "$tmp/fg" --json forget --where 'kind = "pref" OR n EXISTS'
expect_jq "forget --where forgets what passes" '.forgotten == 3'
run --db "$tmp/fg" list --json
expect_jq "what forget left" '[.memories[].id] == [3, 4, 5]'
run --db "$tmp/fg" forget
expect_rc 2 "forget needs IDs or --where"
run --db "$tmp/fg" forget --where 'kind = "x"' 3
expect_rc 2 "forget takes IDs or --where, not both"
run --db "$tmp/fg" --read-only forget 3
expect_rc 2 "forget --read-only is a usage error"

# ---------------------------------------------------------------- backup, repair

run backup "$io" "$tmp/bk"
expect_rc 0 "backup DIR DEST exits 0"
run check "$tmp/bk"
expect_rc 0 "the backup is an intact brain"
run --db "$tmp/bk" export "$tmp/bk.jsonl"
run --db "$io" export "$tmp/io.jsonl"
if cmp -s "$tmp/bk.jsonl" "$tmp/io.jsonl"; then ok "the backup holds every memory as it was"; else
	not_ok "the backup holds every memory as it was"; fi
run --json --db "$io" backup "$tmp/bk"
expect_rc 1 "backup onto a brain exits 1"
expect_err "backup onto a brain: EEXISTS" "EEXISTS"
run --json --db "$io" backup "$tmp/bk2"
expect_jq "backup --json" '.memories == 8 and (.backup | endswith("bk2"))'
run backup "$io"
expect_rc 2 "backup needs DIR DEST"

run repair "$io"
expect_rc 0 "repair of an intact brain exits 0"
if grep -F "intact" "$tmp/out" >/dev/null; then ok "repair says intact"; else not_ok "repair says intact"; fi
run repair --json "$bad"
expect_rc 2 "repair of a damaged checkpoint exits 2 (cannot)"
expect_jq "repair --json says why it cannot" '.outcome == "cannot" and .error.code == "ECORRUPT"'
expect_err "repair says to restore a backup" "backup"
run repair "$tmp/no-such-brain"
expect_rc 2 "repair of a missing brain exits 2"

# A damaged log: records written by an import killed (kill -9) before its
# close, made durable (--sync full: a record past the durable end would be
# a torn tail, not damage), then a byte of the first record flipped.
# repair drops it and what comes after (exit 1), and the brain is intact
# again.
lg="$tmp/logdmg"
mkfifo "$tmp/fifo" 2>/dev/null
if [ -p "$tmp/fifo" ]; then
	"$BC" --db "$lg" --sync full import --batch 1 - <"$tmp/fifo" >/dev/null 2>&1 &
	imp=$!
	exec 3>"$tmp/fifo"
	printf '{"text":"logged one"}\n{"text":"logged two"}\n{"text":"logged three"}\n' >&3
	n=0
	for t in $(seq 1 100); do
		n=$("$BC" stats --json "$lg" 2>/dev/null | jq -r .memories 2>/dev/null)
		[ "$n" = 3 ] && break
		sleep 0.1
	done
	kill -9 "$imp" 2>/dev/null
	exec 3>&-
	wait "$imp" 2>/dev/null
	if [ "$n" = 3 ] && [ -f "$lg/wal" ]; then
		flip_byte "$lg/wal" 300
		run check "$lg"
		expect_rc 1 "check finds the damaged log record"
		run repair --json "$lg"
		expect_rc 1 "repair of a damaged log exits 1 (records lost)"
		expect_jq "repair --json reports the records dropped" \
			'.outcome == "repaired_with_losses" and .repaired == true and .dropped_records >= 1'
		expect_err "repair says what was lost" "dropped"
		run check "$lg"
		expect_rc 0 "the repaired brain is intact"
		run repair "$lg"
		expect_rc 0 "repair again: intact, exit 0"
	else
		not_ok "an import killed before its close leaves records in the log (memories: $n)"
	fi
else
	echo "# skipped: the damaged log (mkfifo failed)"
fi

# ---------------------------------------------------------------- bench

run --db "$tmp/bt1" bench --json --queries 40
expect_rc 0 "bench --json exits 0"
expect_jq "bench --json: the recall-latency table over HNSW_EF_SEARCH 16..256" \
	'[.table[].ef_search] == [16, 32, 64, 128, 256] and .k == 10
	 and all(.table[]; .recall_at_k >= 0 and .recall_at_k <= 1
	         and .p50_ms >= 0 and .p90_ms >= .p50_ms and .p99_ms >= .p90_ms and .max_ms >= .p99_ms)
	 and .exact.recall_at_k == 1 and .queries.count == 40 and .queries.of == 300
	 and .queries.kind == "text" and (.cpu | length > 0) and .at_ef_search.ef_search == 64'
expect_jq "bench on a small brain scans exactly: recall@10 is 1" \
	'.walks_graph == false and all(.table[]; .recall_at_k == 1)'
run --db "$tmp/bt1" bench --json --queries 40
cp "$tmp/out" "$tmp/bench2.json"
run --db "$tmp/bt1" bench --json --queries 40
if [ "$(jq -c '[.queries, .table[].recall_at_k]' "$tmp/out")" = "$(jq -c '[.queries, .table[].recall_at_k]' "$tmp/bench2.json")" ]; then
	ok "bench asks the same sample every run"
else
	not_ok "bench asks the same sample every run"
fi
# a graph from 100 vectors on, so that the walk is measured
awk 'BEGIN { for (i = 0; i < 600; i++) printf "{\"text\":\"graph line %d of topic %d and word%d\"}\n", i, i % 23, i % 97 }' >"$tmp/g600.jsonl"
run --db "$tmp/bg" --param HNSW_EXACT_BELOW=100 import "$tmp/g600.jsonl"
expect_rc 0 "import into a brain whose graph starts at 100 vectors"
run --db "$tmp/bg" export --vectors "$tmp/bg1.jsonl"
run --db "$tmp/bg2" import "$tmp/bg1.jsonl"
run --db "$tmp/bg2" export --vectors "$tmp/bg2.jsonl"
if jsonl_eq x "$tmp/bg1.jsonl" "$tmp/bg2.jsonl"; then
	ok "vectors of an HNSW brain (8-bit codes) round-trip bit for bit too"
else
	not_ok "vectors of an HNSW brain (8-bit codes) round-trip bit for bit too"
fi
run --db "$tmp/bg" bench -k 5 --queries 60
expect_rc 0 "bench (text output) exits 0"
if grep -F "HNSW_EF_SEARCH" "$tmp/out" >/dev/null && grep -F "recall@5" "$tmp/out" >/dev/null &&
	grep -E '^cpu +' "$tmp/out" >/dev/null && grep -E '^ +exact +1\.0000' "$tmp/out" >/dev/null; then
	ok "bench text output: the CPU, the table and the exact row"
else
	not_ok "bench text output: the CPU, the table and the exact row"
fi
run --db "$tmp/bg" --json bench -k 5 --queries 60
expect_jq "bench walks the graph of a brain past HNSW_EXACT_BELOW, recall@5 within [0, 1]" \
	'.walks_graph == true and .k == 5 and all(.table[]; .recall_at_k >= 0 and .recall_at_k <= 1)'
run --db "$tmp/empty-bench" remember "one" && run --db "$tmp/empty-bench" forget 1
run --db "$tmp/empty-bench" bench
expect_rc 1 "bench on an empty brain exits 1"
run bench
expect_rc 2 "bench without --db is a usage error"
run --db "$tmp/bt1" bench --queries 0
expect_rc 2 "bench --queries 0 is a usage error"

# ---------------------------------------------------------------- errors

printf 'a good line\n\377\376 not UTF-8\nanother good line\n' >"$tmp/bad.txt"
run recall -m "$tmp/bad.txt" "good"
expect_rc 1 "an invalid UTF-8 line in -m FILE exits 1"
expect_err "the message names the file and line" "bad.txt:2:"
expect_err "the message names the error" "EUTF8"

printf '1.5\tout of range importance\n' >"$tmp/imp.txt"
run remember -m "$tmp/imp.txt"
expect_rc 1 "an importance outside [0, 1] in -m FILE exits 1"
expect_err "the importance message names the line" "imp.txt:1:"

run remember -m "$tmp/does-not-exist.txt"
expect_rc 1 "a missing -m FILE exits 1"

run remember ""
expect_rc 1 "remembering an empty text exits 1"
expect_err "the empty text is reported as EEMPTY" "EEMPTY"

big=$(awk 'BEGIN { while (i++ < 100000) printf "a" }')
run remember "$big"
expect_rc 1 "a 100 KB text exits 1"
expect_err "a 100 KB text is refused with ETOOLONG" "braincore: ETOOLONG:"
run think "$big"
expect_rc 1 "a 100 KB think input exits 1"
expect_err "a 100 KB think input is refused with ETOOLONG" "ETOOLONG"

run --param NOPE=1 demo
expect_rc 2 "--param NOPE=1 exits 2"
run --param THINK_MAX_MEMORIES=1000000 demo
expect_rc 1 "--param out of the library's bounds exits 1"
expect_err "the out-of-bounds parameter is reported as ERANGE" "ERANGE"
run --dimensions 70000 demo
expect_rc 1 "--dimensions beyond the library's limit exits 1"

run --bogus demo
expect_rc 2 "an unknown option exits 2"
run demo -x
expect_rc 2 "an unknown short option exits 2"
run
expect_rc 2 "no command exits 2"
run frobnicate
expect_rc 2 "an unknown command exits 2"

# Never a crash: every odd command line ends with 0, 1 or 2.
for args in "recall" "think" "remember" "recall -k" "recall -k 0 q" "recall -k x q" \
	"recall -k 99999999999999999999 q" "recall -k 18446744073709551615 q" \
	"--dimensions 0 demo" "--dimensions -1 demo" "--dimensions 99999999999 demo" \
	"--param demo" "--param =1 demo" "--param THINK_MAX_MEMORIES= demo" \
	"--param THINK_MAX_MEMORIES=x demo" "--param THINK_MAX_MEMORIES=99999999999999999999 demo" \
	"--json=1 demo" "--importance 2 remember x" "--importance nan remember x" \
	"--importance remember" "-m" "-m '' remember" "demo extra" "demo -m -" \
	"recall -- -k" "think -- --json" "-k 3 think x" "--importance 0.5 recall x" \
	"--memories=/dev/null recall x" "-m/dev/null recall x" "-- demo" "- -" \
	"check" "stats" "check ''" "--db '' recall x" "--db" "--sync" "--sync= demo" \
	"--read-only demo" "--read-only=1 demo" "--db $tmp/nx --read-only think x" \
	"stats -m /dev/null $tmp/nx" "check -k 3 $tmp/nx" "--db $tmp/nx check $tmp/nx" \
	"import" "--db $tmp/nx import" "--db $tmp/nx import /dev/null /dev/null" \
	"--db $tmp/nx import /dev/null" "--db $tmp/nx import --batch x -" "--db $tmp/nx import -" \
	"--db $tmp/nx export a b" "--db $tmp/nx export --where" "--db $tmp/nx get" \
	"--db $tmp/nx get 18446744073709551615" "--db $tmp/nx list --limit 0" \
	"--db $tmp/nx list --after -1" "--db $tmp/nx forget" "--db $tmp/nx forget x" \
	"--db $tmp/nx bench --queries 99999999999" "--db $tmp/nx bench -k 0" "backup" \
	"backup $tmp/nx" "backup $tmp/nx ''" "repair" "repair ''" "--db $tmp/nx repair x" \
	"--vectors recall x" "--skip-bad demo" "--limit 3 recall x"; do
	# shellcheck disable=SC2086
	eval "run $args" </dev/null
	case $rc in
	0 | 1 | 2 | 3) ok "no crash: braincore $args (exit $rc)" ;;
	*) not_ok "no crash: braincore $args (exit $rc)" ;;
	esac
done

# ---------------------------------------------------------------- models
run embed-check
expect_rc 2 "embed-check needs a MODEL"
run embed-check /nonexistent/model.gguf
expect_rc 1 "embed-check of a missing model exits 1"
expect_err "embed-check says what is missing" "/nonexistent/model.gguf"
run --model /nonexistent/model.gguf remember "a text"
expect_rc 1 "--model of a missing model exits 1"
run --model "" remember "a text"
expect_rc 2 "--model needs a path"
run --db "$tmp/x" embed-check /nonexistent/model.gguf
expect_rc 2 "embed-check takes no options but --json"
run --json embed-check /nonexistent/model.gguf
expect_rc 1 "embed-check --json of a missing model exits 1"
if [ -n "$FIX" ] && [ -f "$FIX/done" ]; then
	run embed-check "$FIX/a/model-f32.gguf"
	expect_rc 0 "embed-check of a model exits 0"
	if grep -q "32-d vectors" "$tmp/out" && grep -q "sentences/s" "$tmp/out"; then
		ok "embed-check says the model's size and speed"
	else
		not_ok "embed-check says the model's size and speed"
	fi
	printf 'main-captions\tMSRvid\t2012test\t1\t5.000\tA cat sits.\tA cat sits.\n' >"$tmp/sts.csv"
	printf 'main-captions\tMSRvid\t2012test\t2\t0.500\tA cat sits.\tStocks fell.\n' >>"$tmp/sts.csv"
	printf 'main-captions\tMSRvid\t2012test\t3\t2.500\tA cat sat.\tA dog sits.\n' >>"$tmp/sts.csv"
	printf 'a line that is not a pair\n' >>"$tmp/sts.csv"
	run embed-check "$FIX/a" "$tmp/sts.csv"
	expect_rc 0 "embed-check with an STS file exits 0"
	if grep -q "Spearman .* over 3 pairs (1 lines skipped)" "$tmp/out"; then
		ok "embed-check scores the pairs"
	else
		not_ok "embed-check scores the pairs"
	fi
	run --model "$FIX/a/model-q8_0.gguf" --json remember "the cat sat on the mat" "stocks fell"
	expect_rc 0 "--model remembers"
	run --db "$tmp/mdb" --model "$FIX/a/model-f32.gguf" remember "the cat sat on the mat"
	expect_rc 0 "--model --db remembers"
	run --db "$tmp/mdb" --model "$FIX/a/model-f32.gguf" --json recall "the cat sat on the mat"
	expect_rc 0 "--model --db recalls"
	expect_jq "the model's brain finds its memory" '.queries[0].results[0].text == "the cat sat on the mat"'
	run --json embed-check "$FIX/a/model-f32.gguf" "$tmp/sts.csv"
	expect_rc 0 "embed-check --json exits 0"
	expect_jq "embed-check --json: size, speed and the STS score" \
		'.dimensions == 32 and .sentences_per_second > 0 and .sts.pairs == 3 and .sts.skipped_lines == 1'
	run --db "$tmp/mdb" --model "$FIX/a/model-f32.gguf" --json bench
	expect_rc 0 "bench on a model's brain with its model exits 0"
	expect_jq "bench with the model asks with texts" '.queries.kind == "text" and .exact.recall_at_k == 1'
	run --db "$tmp/mdb" --json bench
	expect_rc 0 "bench on a model's brain without its model exits 0"
	expect_jq "bench without the model asks with stored vectors" '.queries.kind == "vector"'
	expect_err "bench says why it asks with vectors" "--model"
	run --db "$tmp/mdb" --model "$FIX/a/model-f16.gguf" recall "the cat"
	expect_rc 1 "another model is refused"
	expect_err "another model: the reason" "do not mix"
	run --db "$tmp/mdb" recall "the cat"
	expect_rc 1 "the built-in embedder is refused on a model's brain"
	expect_err "the built-in embedder: the reason" "model_path"
else
	echo "# skipped: no model fixture (tests/model_fixture.sh needs python3-numpy)"
fi

echo "1..$count"
if [ "$failures" -ne 0 ]; then
	echo "test_cli: $failures of $count checks failed" >&2
	exit 1
fi
echo "test_cli: all $count checks passed"
