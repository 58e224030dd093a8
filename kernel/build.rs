fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed=linker.ld");
    for arg in [
        &format!("-T{dir}/linker.ld"),
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-Wl,-z,norelro",
        "-Wl,--build-id=none",
        "-Wl,-z,max-page-size=4096",
        "-no-pie",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
