//! The default rules in `queries/` are compiled into the binary (include_dir);
//! tell Cargo to rebuild when any of them changes, which it cannot see itself.
//!
//! Linking: DataFusion and Ballista make phm's binary and test binary large,
//! and GNU ld takes most of an incremental build to link them. When Debian's
//! `mold` is installed (scripts/test.sh installs it), phm's own links use it.
//! This is set here rather than in .cargo/config.toml so that no dependency's
//! build depends on it (a linker path in the config is part of every crate's
//! fingerprint, and a clone in another folder rebuilt everything).
fn main() {
    println!("cargo:rerun-if-changed=queries");
    println!("cargo:rerun-if-changed=src/tools/generate/uncoded_events.csv");
    println!("cargo:rerun-if-env-changed=PHM_NO_MOLD");
    let target = std::env::var("TARGET").unwrap_or_default();
    let mold = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("mold").is_file()));
    if mold && target.contains("linux") && std::env::var_os("PHM_NO_MOLD").is_none() {
        println!("cargo:rustc-link-arg=-fuse-ld=mold");
    }
}
