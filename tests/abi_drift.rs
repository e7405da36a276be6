//! The generated TypeScript ABI module (`pkg-js/src/abi.generated.ts`) matches the Rust core
//! (`src/abi.rs`). `EDGEGATE_BLESS=1 cargo test --test abi_drift` rewrites the file.

use std::path::Path;

#[test]
fn generated_ts_abi_matches_the_core() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pkg-js/src/abi.generated.ts");
    let want = edgegate::abi::typescript();
    if std::env::var_os("EDGEGATE_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write abi.generated.ts");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "pkg-js/src/abi.generated.ts is out of date with src/abi.rs; run EDGEGATE_BLESS=1 cargo test --test abi_drift"
    );
}
