#!/bin/sh
# The Node binding (bindings/node) against this build's libbraincore: its
# dependencies installed from the lock file (npm ci: koffi, prebuilt), the
# node --test suite, then `npm pack` installed into a scratch project and
# required from there, as a user would.
# usage: check_node.sh LIBRARY SOURCE_DIR
set -eu
lib=$1 src=$2
command -v node > /dev/null && command -v npm > /dev/null ||
	{ echo "check_node: node and npm are needed (Debian: nodejs, npm)"; exit 1; }
node --version
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export BRAINCORE_LIBRARY="$lib" npm_config_audit=false npm_config_fund=false \
	npm_config_update_notifier=false
cd "$src/bindings/node"
npm ci --silent > "$tmp/ci.log" 2>&1 || { cat "$tmp/ci.log"; exit 1; }
node --test test/*.test.js

# the package as npm pack makes it, installed and required elsewhere
npm pack --silent --pack-destination "$tmp" > "$tmp/pack.log" 2>&1 ||
	{ cat "$tmp/pack.log"; exit 1; }
mkdir "$tmp/app"
cd "$tmp/app"
npm init -y > /dev/null
npm install --silent "$tmp"/braincore-*.tgz > "$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
node -e '
const bc = require("braincore");
const b = new bc.Brain();
b.remember("The Eiffel Tower is 330 metres tall.", { importance: 0.8 });
if (!b.think("How tall is the Eiffel Tower?").answer.includes("330")) process.exit(1);
try { b.get(999); process.exit(1); } catch (e) {
  if (!(e instanceof bc.NotFoundError) || e.code !== "BRAIN_ENOTFOUND") process.exit(1);
}
b.close();
console.log("installed package OK:", require.resolve("braincore"), bc.libraryVersion);
'
