//! One ABI (issue 8, item 3): the wasm bindings and the TypeScript package use the facts in
//! `src/abi.rs` (rendered into `pkg-js/src/abi.generated.ts`); no hand copies remain.

use std::path::Path;

fn read_dir(dir: &str, ext: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&root).expect("read dir").flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) == Some(ext) {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            out.push((name, std::fs::read_to_string(&p).expect("read")));
        }
    }
    out
}

#[test]
fn wasm_bindings_have_no_hand_copied_abi_constants() {
    for (name, text) in read_dir("src/wasm", "rs") {
        for banned in [
            "const R_STATUS",
            "const ST_OK",
            "const F_JWT",
            "const F_HOST",
            "const A_USE",
            "const A_FETCH",
            "fn default_limits",
        ] {
            assert!(
                !text.contains(banned),
                "src/wasm/{name} hand-copies `{banned}`"
            );
        }
    }
}

#[test]
fn typescript_package_has_no_hand_copied_abi_facts() {
    for (name, text) in read_dir("pkg-js/src", "ts") {
        if name == "abi.generated.ts" {
            continue;
        }
        for banned in [
            "['HS256', 'HS384'",
            "const F_JWT = ",
            "const F_HOST = ",
            "const USE = 0",
            "const FETCH = 1",
            "const WAIT = 2",
            "new Uint8Array(44)",
            "600_000",
            "30_000",
            "3_600_000",
            "?? 5_000",
            "r[0] === ",
            "r[5 + i]",
        ] {
            assert!(
                !text.contains(banned),
                "pkg-js/src/{name} hand-copies `{banned}`"
            );
        }
    }
}

#[test]
fn the_fetch_body_bound_is_the_core_limit() {
    assert_eq!(
        edgegate::abi::MAX_FETCH_BODY_BYTES,
        edgegate::Limits::MAX_RESPONSE_BYTES
    );
    assert!(edgegate::abi::typescript().contains("timeoutDuration: 5000"));
}
