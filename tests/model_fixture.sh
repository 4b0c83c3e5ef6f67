#!/bin/sh
# tests/model_fixture.sh OUT SRC - the models test_model compares with:
# small random-weight BERTs in every format tools/bert_model.py writes
# (GGUF f32/f16/q8_0, safetensors f32/f16 with vocab.txt and
# tokenizer.json), and numpy's forward pass of the test sentences for
# each (tests/data/model_sentences.txt). Needs Debian python3-numpy; the
# README's test command installs it. Without it this fixture fails loudly
# and test_model skips.
set -eu
out=$1
src=$2
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
	echo "model_fixture: python3-numpy is missing (apt-get install python3-numpy):" \
		"the transformer runtime's tests cannot run" >&2
	exit 1
fi
rm -rf "$out"
mkdir -p "$out"
s="$src/tests/data/model_sentences.txt"
tool="$src/tools/bert_model.py"
# a: mean pooling, gelu, a 40-token window (long sentences take windows)
"$py" "$tool" write "$out/a" --layers 2 --hidden 32 --heads 4 --inter 64 --max-pos 40 --seed 1
"$py" "$tool" embed "$out/a" "$s" "$out/a/ref.txt"
"$py" "$tool" embed "$out/a" "$s" "$out/a/ref-f16.txt" --weights f16
"$py" "$tool" embed "$out/a" "$s" "$out/a/ref-q8_0.txt" --weights q8_0
"$py" "$tool" embed "$out/a" "$s" "$out/a/ref-st-f16.txt" --weights safetensors-f16
"$py" "$tool" tokenize "$out/a" "$s" "$out/a/tokens.txt"
# b: [CLS] pooling, tanh GELU, BertForX's "bert." names, 3 layers of 64
"$py" "$tool" write "$out/b" --layers 3 --hidden 64 --heads 8 --inter 96 --max-pos 64 \
	--seed 2 --pooling cls --act gelu_new --prefix bert.
"$py" "$tool" embed "$out/b" "$s" "$out/b/ref.txt"
# the same model as safetensors f16, and with tokenizer.json instead of
# vocab.txt (directories of links)
mkdir -p "$out/a-f16" "$out/a-tj"
for f in config.json vocab.txt tokenizer_config.json modules.json 1_Pooling; do
	ln -s "$out/a/$f" "$out/a-f16/$f"
done
ln -s "$out/a/model-f16.safetensors" "$out/a-f16/model.safetensors"
for f in config.json tokenizer.json tokenizer_config.json model.safetensors; do
	ln -s "$out/a/$f" "$out/a-tj/$f"
done
touch "$out/done"
