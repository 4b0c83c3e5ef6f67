#!/bin/sh
# The Python binding (bindings/python) against this build's libbraincore:
# its pytest suite, then `pip install` of the package offline (Debian's
# setuptools, no build isolation) into a scratch directory, imported from there.
# usage: check_python.sh PYTHON LIBRARY SOURCE_DIR
set -eu
python=$1 lib=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export BRAINCORE_LIBRARY="$lib" PYTHONDONTWRITEBYTECODE=1
cd "$src/bindings/python"
"$python" -m pytest -q -p no:cacheprovider tests

# pip builds in the tree it is given: give it a copy
cp -R "$src/bindings/python" "$tmp/src"
"$python" -m pip install -q --no-build-isolation --no-index --no-deps \
	--target "$tmp/site" "$tmp/src" > "$tmp/pip.log" 2>&1 ||
	{ cat "$tmp/pip.log"; exit 1; }
test -f "$tmp/site/braincore/py.typed"
cd "$tmp"
PYTHONPATH="$tmp/site" "$python" - <<'PY'
import braincore
assert braincore.__file__.startswith(__import__("os").environ["PYTHONPATH"]), braincore.__file__
with braincore.Brain() as b:
    b.remember("The Eiffel Tower is 330 metres tall.")
    assert "330" in b.think("How tall is the Eiffel Tower?").answer
print("installed package OK:", braincore.__file__, braincore.library_version)
PY
