//! The layering of `src/` (docs/architecture.md): no module cycles, and dependencies point
//! down only: leaves (`error`, `limits`, `time`, `url`) <- `codec` <- `jose` <- `ratelimit` <-
//! `gate` <- `abi` <- hosts (`wasm`, `worker`). Read from the source: every `crate::...` path outside
//! comments and `#[cfg(test)]` modules is an edge from the file's module to the module it
//! names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/jose/jwk.rs` -> `jose::jwk`; `src/gate/mod.rs` -> `gate`; `src/lib.rs` -> `lib`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file without comments and without its `#[cfg(test)]` module.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut skip_depth: Option<i32> = None;
    let mut depth = 0i32;
    let mut pending_test = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if t.starts_with("#[cfg(test)]") {
            pending_test = true;
            continue;
        }
        let opens = line.matches('{').count() as i32;
        let closes = line.matches('}').count() as i32;
        if pending_test
            && (t.starts_with("mod ") || t.starts_with("pub mod "))
            && skip_depth.is_none()
        {
            skip_depth = Some(depth);
        }
        pending_test = false;
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let modules: BTreeSet<String> = all.iter().map(|f| module_of(&src, f)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &all {
        let from = module_of(&src, f);
        let text = code(&std::fs::read_to_string(f).unwrap());
        let edges = g.entry(from.clone()).or_default();
        // Also `use super::x` inside a layer.
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let segs: Vec<&str> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            // The longest prefix that names a module file.
            let mut target = None;
            for n in (1..=segs.len()).rev() {
                let cand = segs[..n].join("::");
                if modules.contains(&cand) {
                    target = Some(cand);
                    break;
                }
            }
            if let Some(t) = target {
                if t != from {
                    edges.insert(t);
                }
            }
        }
    }
    g
}

fn layer(m: &str) -> u8 {
    match m.split("::").next().unwrap() {
        "error" | "limits" | "time" | "url" => 0,
        "codec" => 1,
        "jose" => 2,
        "ratelimit" => 3,
        "gate" => 4,
        "abi" => 5,
        "wasm" | "worker" => 6,
        "lib" => 7,
        other => panic!(
            "module {other} has no layer: add it to tests/layers.rs and docs/architecture.md"
        ),
    }
}

#[test]
fn dependencies_point_down_only() {
    let g = graph();
    let mut bad = Vec::new();
    for (from, tos) in &g {
        for to in tos {
            // A layer's mod.rs re-exports its own files; a file may use its layer's re-exports.
            let same_layer = from.split("::").next() == to.split("::").next();
            if !same_layer && layer(to) > layer(from) {
                bad.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(bad.is_empty(), "upward dependencies: {bad:?}");
}

#[test]
fn no_module_cycles() {
    let g = graph();
    // A layer's mod.rs only re-exports: edges into a layer root are edges into the layer's
    // files, so leave the roots out of the cycle search (their own edges point down).
    let roots: BTreeSet<&str> = [
        "codec",
        "jose",
        "gate",
        "wasm",
        "worker",
        "ratelimit",
        "lib",
    ]
    .into();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        n: &'a str,
        g: &'a BTreeMap<String, BTreeSet<String>>,
        roots: &BTreeSet<&str>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let i = stack.iter().position(|s| *s == n).unwrap_or(0);
                let mut cyc: Vec<String> = stack[i..].iter().map(|s| s.to_string()).collect();
                cyc.push(n.to_string());
                return Some(cyc);
            }
            _ => {}
        }
        state.insert(n, 1);
        stack.push(n);
        if let Some(tos) = g.get(n) {
            for t in tos {
                if roots.contains(t.as_str()) {
                    continue;
                }
                if let Some(c) = visit(t, g, roots, state, stack) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    for n in g.keys() {
        if roots.contains(n.as_str()) {
            continue;
        }
        let mut stack = Vec::new();
        if let Some(c) = visit(n, &g, &roots, &mut state, &mut stack) {
            panic!("module cycle: {}", c.join(" -> "));
        }
    }
}

#[test]
fn the_graph_is_read() {
    // Guards the reader itself: a few known edges must be found.
    let g = graph();
    assert!(g["jose::verify"].contains("jose::token"));
    assert!(g["gate::decide"].contains("gate::config"));
    assert!(g["gate::config"].contains("gate::cfg"));
}
