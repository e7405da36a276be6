//! `revocation.store` (the Rust Worker's revocation store: KV or the Durable Object).
use edgegate::gate::{Config, Env, RevocationStore};
use serde_json::json;

fn parse(v: serde_json::Value) -> Result<Config, edgegate::gate::ConfigError> {
    Config::from_value(&v, &Env::new())
}

#[test]
fn revocation_store_defaults_to_kv() {
    let c = parse(json!({ "revocation": { "enabled": true } })).unwrap();
    assert!(c.revocation);
    assert_eq!(c.revocation_store, RevocationStore::Kv);
    let c = parse(json!({})).unwrap();
    assert_eq!(c.revocation_store, RevocationStore::Kv);
}

#[test]
fn revocation_store_durable_object() {
    let c = parse(json!({ "revocation": { "store": "durable-object" } })).unwrap();
    assert!(c.revocation);
    assert_eq!(c.revocation_store, RevocationStore::DurableObject);
    let c = parse(json!({ "revocation": { "store": "kv" } })).unwrap();
    assert_eq!(c.revocation_store, RevocationStore::Kv);
}

#[test]
fn revocation_store_unknown_is_refused_with_its_path() {
    for bad in [
        json!("redis"),
        json!(1),
        json!(true),
        json!("Durable-Object"),
    ] {
        let e = parse(json!({ "revocation": { "store": bad } })).unwrap_err();
        assert_eq!(e.path, "revocation.store", "{bad}");
    }
}
