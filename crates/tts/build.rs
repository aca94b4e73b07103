// Links flite (BSD-style licence) from Debian's flite1-dev. The static archives pull in ALSA
// for flite's own audio output, which we never use, so the shared libraries are linked instead.
fn main() {
    let dir = std::env::var("FLITE_LIB_DIR").unwrap_or_else(|_| "/usr/lib/x86_64-linux-gnu".into());
    if !std::path::Path::new(&dir).join("libflite.so").exists() {
        panic!(
            "flite not found in {dir}: install it with `apt-get install -y flite1-dev` \
             (or set FLITE_LIB_DIR to the folder holding libflite.so)"
        );
    }
    println!("cargo:rustc-link-search=native={dir}");
    for lib in [
        "flite_cmu_us_slt",
        "flite_cmu_us_rms",
        "flite_usenglish",
        "flite_cmulex",
        "flite",
    ] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    println!("cargo:rustc-link-lib=m");
    println!("cargo:rerun-if-env-changed=FLITE_LIB_DIR");
}
