//! Config parsing (`Config::from_json`): any bytes -> a config or a ConfigError with a
//! field path, never a panic; a parsed config builds a gate.
#![no_main]
use edgegate::gate::Env;
use edgegate::{Config, Gate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut env = Env::new();
    env.insert(
        "JWT_SECRET".into(),
        "fuzz-secret-0123456789abcdef-0123456789".into(),
    );
    env.insert("AUTH_ENABLED".into(), "true".into());
    match Config::from_json(data, &env) {
        Ok(c) => {
            let g = Gate::new(c);
            let _ = g.warnings();
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.code();
        }
    }
});
