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
	"stats -m /dev/null $tmp/nx" "check -k 3 $tmp/nx" "--db $tmp/nx check $tmp/nx"; do
	# shellcheck disable=SC2086
	eval "run $args" </dev/null
	case $rc in
	0 | 1 | 2) ok "no crash: braincore $args (exit $rc)" ;;
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
run --json embed-check /nonexistent/model.gguf
expect_rc 2 "embed-check takes no options"
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
