//! The default rules in `queries/` are compiled into the binary (include_dir);
//! tell Cargo to rebuild when any of them changes, which it cannot see itself.
fn main() {
    println!("cargo:rerun-if-changed=queries");
    println!("cargo:rerun-if-changed=src/generate/uncoded_events.csv");
}
