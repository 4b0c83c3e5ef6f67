//! Finds libbraincore for the linker.
//!
//! The normal way is the `pkg-config` program (`pkg-config --libs braincore`),
//! which honours PKG_CONFIG_PATH, so both an installed libbraincore-dev and a
//! build tree (its braincore-uninstalled.pc) work. No crate is used: this is
//! plain std and a child process.
//!
//! Escape hatch for systems without pkg-config: BRAINCORE_NO_PKG_CONFIG=1,
//! with BRAINCORE_LIB_DIR naming the directory of libbraincore.so (optional:
//! without it the linker's default paths are searched).

use std::env;
use std::process::Command;

fn main() {
    for var in [
        "BRAINCORE_NO_PKG_CONFIG",
        "BRAINCORE_LIB_DIR",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    if env::var("BRAINCORE_NO_PKG_CONFIG").map_or(false, |v| v == "1") {
        if let Ok(dir) = env::var("BRAINCORE_LIB_DIR") {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:libdir={dir}");
        }
        println!("cargo:rustc-link-lib=dylib=braincore");
        return;
    }

    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let output = Command::new(&program).args(["--libs", "braincore"]).output();
    let output = match output {
        Ok(out) if out.status.success() => out,
        Ok(out) => not_found(&format!(
            "`{program} --libs braincore` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => not_found(&format!("could not run `{program}`: {err}")),
    };

    let flags = String::from_utf8_lossy(&output.stdout);
    let mut linked = false;
    for flag in flags.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
            println!("cargo:libdir={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={lib}");
            linked |= lib == "braincore";
        } else {
            println!("cargo:rustc-link-arg={flag}");
        }
    }
    if !linked {
        not_found(&format!("`{program} --libs braincore` printed no -lbraincore: {}", flags.trim()));
    }
}

fn not_found(why: &str) -> ! {
    panic!(
        "\n\nbraincore-sys: cannot find libbraincore.\n  {why}\n\n\
         Install the development package (Debian/Ubuntu: `apt install libbraincore-dev`),\n\
         or point pkg-config at a build tree or another prefix:\n\
         \x20   PKG_CONFIG_PATH=/path/to/braincore/build cargo build\n\
         (the directory holding braincore.pc or braincore-uninstalled.pc).\n\
         Without pkg-config: BRAINCORE_NO_PKG_CONFIG=1 BRAINCORE_LIB_DIR=/dir/of/libbraincore.so\n\n"
    );
}
