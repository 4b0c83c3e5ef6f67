#!/bin/sh
# The Rust binding (bindings/rust: braincore-sys, braincore) against this
# build's libbraincore: `cargo test --offline` (no crates from a registry),
# build.rs finding the library through pkg-config and the build tree's
# braincore-uninstalled.pc. Works with Debian 12's cargo (rustc 1.63) and
# newer.
# usage: check_rust.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
command -v cargo > /dev/null ||
	{ echo "check_rust: cargo not found (Debian: apt install cargo; tools/run.sh test does)"; exit 1; }
cargo --version
export PKG_CONFIG_PATH="$build" LD_LIBRARY_PATH="$build" CARGO_TARGET_DIR="$build/rust-target"
export CARGO_TERM_COLOR=never
cargo test --offline --quiet --manifest-path "$src/bindings/rust/Cargo.toml"
