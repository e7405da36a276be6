//! The provider presets as data: aliases, config fields and the environment variables each
//! field falls back to (the seed's table: `AUTH0_DOMAIN`, `JWT_SECRET`, ...).
//!
//! One table serves both the config reader ([`with_env_defaults`], called before a
//! provider entry is parsed) and the hosts (`edgegate providers`, through the wasm
//! binding's `providerCatalog`), so no host keeps its own copy.
//!
//! The rule: a field that the entry does not set (absent or `null`) is read from the first of
//! its variables that is set and non-empty. A field the entry sets is never overridden. Key
//! fields that exclude each other (`secret`/`publicKey`/`jwks`/`jwksUrl`) are filled only
//! when the entry has none of them; two key variables set at once is a configuration error
//! ("give only one"), never a silent choice.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::gate::cfg::{ConfigError, Env};
use crate::gate::providers::ProviderKind;

/// One config field of a preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresetField {
    /// The field name in the provider entry (`domain`, `clientId`, ...).
    pub name: &'static str,
    /// Whether the preset needs it (given in the entry or by one of `env`).
    pub required: bool,
    /// Environment variables read, in order, when the entry does not set the field.
    pub env: &'static [&'static str],
    /// Fields that, when set in the entry, keep this one from being read from the
    /// environment (alternative key sources).
    pub unless: &'static [&'static str],
    /// One line for `edgegate providers` and the docs.
    pub about: &'static str,
}

/// One preset: its canonical type, aliases and fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub kind: ProviderKind,
    pub aliases: &'static [&'static str],
    pub fields: &'static [PresetField],
}

const fn f(
    name: &'static str,
    required: bool,
    env: &'static [&'static str],
    about: &'static str,
) -> PresetField {
    PresetField {
        name,
        required,
        env,
        unless: &[],
        about,
    }
}

const fn fu(
    name: &'static str,
    env: &'static [&'static str],
    unless: &'static [&'static str],
    about: &'static str,
) -> PresetField {
    PresetField {
        name,
        required: false,
        env,
        unless,
        about,
    }
}

const JWT_KEYS: &[&str] = &["secret", "publicKey", "jwks", "jwksUrl"];

/// The 11 presets, in the seed's order.
pub const PRESETS: &[Preset] = &[
    Preset {
        kind: ProviderKind::Auth0,
        aliases: &["auth0-jwt", "auth0-oauth"],
        fields: &[
            f("domain", true, &["AUTH0_DOMAIN"], "tenant host (acme.eu.auth0.com)"),
            f("audience", true, &["AUTH0_AUDIENCE"], "the API identifier"),
            f("clientId", false, &["AUTH0_CLIENT_ID"], "azp must equal it when set"),
            f("claimsNamespace", false, &[], "prefix of namespaced custom claims"),
        ],
    },
    Preset {
        kind: ProviderKind::Clerk,
        aliases: &["clerk-jwt"],
        fields: &[
            f("issuer", true, &["CLERK_ISSUER"], "the Frontend API URL"),
            fu("jwtKey", &["CLERK_JWT_KEY"], &["jwksUrl"], "PEM public key (networkless)"),
            f("allowedOrigins", false, &[], "accepted azp values"),
        ],
    },
    Preset {
        kind: ProviderKind::Firebase,
        aliases: &["firebase-auth"],
        fields: &[f("projectId", true, &["FIREBASE_PROJECT_ID"], "the Firebase project id")],
    },
    Preset {
        kind: ProviderKind::Supabase,
        aliases: &["supabase-auth"],
        fields: &[
            f("url", true, &["SUPABASE_URL"], "project URL (https://xxx.supabase.co)"),
            fu("jwtSecret", &["SUPABASE_JWT_SECRET"], &["jwksUrl"], "legacy HS256 secret instead of the JWKS"),
        ],
    },
    Preset {
        kind: ProviderKind::Cognito,
        aliases: &["aws-cognito", "amazon-cognito"],
        fields: &[
            f("userPoolId", true, &["COGNITO_USER_POOL_ID"], "<region>_<id>"),
            f("region", true, &["COGNITO_REGION", "AWS_REGION"], "AWS region of the pool"),
            f("clientId", true, &["COGNITO_CLIENT_ID"], "app client id"),
            f("tokenUse", false, &[], "access (default) or id"),
        ],
    },
    Preset {
        kind: ProviderKind::Keycloak,
        aliases: &["keycloak-oidc"],
        fields: &[
            f("serverUrl", true, &["KEYCLOAK_SERVER_URL"], "server URL"),
            f("realm", true, &["KEYCLOAK_REALM"], "realm name"),
            f("clientId", true, &["KEYCLOAK_CLIENT_ID"], "client id (azp, client roles)"),
        ],
    },
    Preset {
        kind: ProviderKind::WorkOs,
        aliases: &["workos-sso", "work-os"],
        fields: &[f("clientId", true, &["WORKOS_CLIENT_ID"], "client id (JWKS path)")],
    },
    Preset {
        kind: ProviderKind::BetterAuth,
        aliases: &["betterauth", "better_auth"],
        fields: &[f(
            "baseUrl",
            true,
            &["BETTER_AUTH_BASE_URL", "BETTER_AUTH_URL"],
            "issuer, audience and JWKS base",
        )],
    },
    Preset {
        kind: ProviderKind::OAuth2,
        aliases: &["oauth", "oidc", "openid-connect"],
        fields: &[
            f("issuer", true, &["OAUTH2_ISSUER"], "issuer (discovery at <issuer>/.well-known/openid-configuration)"),
            f("jwksUrl", false, &["OAUTH2_JWKS_URL"], "JWK Set URL instead of discovery"),
            f("audience", false, &["OAUTH2_AUDIENCE"], "accepted aud values"),
            f(
                "introspection",
                false,
                &[],
                "RFC 7662 for opaque tokens: url (OAUTH2_INTROSPECTION_URL), clientId (OAUTH2_CLIENT_ID), clientSecret (OAUTH2_CLIENT_SECRET)",
            ),
        ],
    },
    Preset {
        kind: ProviderKind::Jwt,
        aliases: &["jwt-auth", "jwt-token"],
        fields: &[
            f("issuer", true, &["JWT_ISSUER"], "expected iss"),
            fu("secret", &["JWT_SECRET"], JWT_KEYS, "HS256 secret (>= 32 bytes)"),
            fu("publicKey", &["JWT_PUBLIC_KEY"], JWT_KEYS, "PEM public key"),
            f("jwks", false, &[], "inline JWK Set"),
            f("jwksUrl", false, &[], "JWK Set URL"),
            f("audience", false, &["JWT_AUDIENCE"], "accepted aud values"),
        ],
    },
    Preset {
        kind: ProviderKind::Custom,
        aliases: &["custom-auth"],
        fields: &[
            f("issuer", false, &[], "expected iss (without it: opaque tokens only)"),
            f("secret", false, &[], "as jwt"),
            f("publicKey", false, &[], "as jwt"),
            f("jwks", false, &[], "as jwt"),
            f("jwksUrl", false, &[], "as jwt; without keys the host verifies"),
        ],
    },
];

/// The nested `introspection` fields of `oauth2` and their variables.
const INTROSPECTION_ENV: &[(&str, &str)] = &[
    ("url", "OAUTH2_INTROSPECTION_URL"),
    ("clientId", "OAUTH2_CLIENT_ID"),
    ("clientSecret", "OAUTH2_CLIENT_SECRET"),
];

/// The preset of a kind.
pub fn preset(kind: ProviderKind) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.kind == kind)
}

/// Whether the preset of `kind` has the field `name` (the common fields aside).
pub(crate) fn has_field(kind: ProviderKind, name: &str) -> bool {
    preset(kind).is_some_and(|p| p.fields.iter().any(|f| f.name == name))
}

fn env_value<'e>(env: &'e Env, names: &[&str]) -> Option<(&'e str, String)> {
    names.iter().find_map(|n| {
        env.get_key_value(*n)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.clone()))
    })
}

fn unset(map: &Map<String, Value>, name: &str) -> bool {
    map.get(name).is_none_or(Value::is_null)
}

/// The provider entry with the fields it leaves unset filled from the environment, and the
/// fields so filled (`(field path, variable)`, to name the variable in errors). An entry that
/// is not an object, or of an unknown type, is returned as it is (the parser reports it).
pub(crate) fn with_env_defaults(
    path: &str,
    v: &Value,
    env: &Env,
) -> (Value, Vec<(String, String)>) {
    let mut filled = Vec::new();
    let Some(map) = v.as_object() else {
        return (v.clone(), filled);
    };
    let Some(kind) = map
        .get("type")
        .and_then(Value::as_str)
        .and_then(ProviderKind::parse)
    else {
        return (v.clone(), filled);
    };
    let Some(p) = preset(kind) else {
        return (v.clone(), filled);
    };
    let mut out = map.clone();
    for field in p.fields {
        if field.env.is_empty() || !unset(map, field.name) {
            continue;
        }
        if field
            .unless
            .iter()
            .any(|u| *u != field.name && !unset(map, u))
        {
            continue;
        }
        if let Some((var, value)) = env_value(env, field.env) {
            out.insert(field.name.into(), Value::String(value));
            filled.push((format!("{path}.{}", field.name), var.into()));
        }
    }
    if kind == ProviderKind::OAuth2 {
        if let Some(Value::Object(i)) = out.get("introspection").cloned() {
            let mut i2 = i.clone();
            for (name, var) in INTROSPECTION_ENV {
                if unset(&i, name) {
                    if let Some((var, value)) = env_value(env, &[var]) {
                        i2.insert((*name).into(), Value::String(value));
                        filled.push((format!("{path}.introspection.{name}"), var.into()));
                    }
                }
            }
            out.insert("introspection".into(), Value::Object(i2));
        }
    }
    (Value::Object(out), filled)
}

/// Names the variable a failing field came from (`... (from AUTH0_DOMAIN)`); the value
/// itself is never in the message.
pub(crate) fn annotate(e: ConfigError, filled: &[(String, String)]) -> ConfigError {
    match filled
        .iter()
        .find(|(p, _)| e.path == *p || e.path.starts_with(&format!("{p}.")))
    {
        Some((_, var)) => ConfigError::new(e.path.clone(), format!("{} (from {var})", e.message)),
        None => e,
    }
}

/// The catalog as JSON (`edgegate providers --format json`): one object per preset with
/// `type`, `aliases` and `fields` (`name`, `required`, `env`, `about`).
pub fn catalog_json() -> Value {
    let mut items = Vec::new();
    for p in PRESETS {
        let mut fields: Vec<Value> = Vec::new();
        for fd in p.fields {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(fd.name.into()));
            m.insert("required".into(), Value::Bool(fd.required));
            m.insert(
                "env".into(),
                Value::Array(fd.env.iter().map(|e| Value::String((*e).into())).collect()),
            );
            m.insert("about".into(), Value::String(fd.about.into()));
            fields.push(Value::Object(m));
        }
        let mut env: Vec<Value> = Vec::new();
        let mut push = |e: &str| {
            if !env.iter().any(|x| x.as_str() == Some(e)) {
                env.push(Value::String(e.into()));
            }
        };
        for fd in p.fields {
            fd.env.iter().for_each(|e| push(e));
        }
        if p.kind == ProviderKind::OAuth2 {
            INTROSPECTION_ENV.iter().for_each(|(_, e)| push(e));
        }
        let mut m = Map::new();
        m.insert("type".into(), Value::String(p.kind.name().into()));
        m.insert(
            "aliases".into(),
            Value::Array(
                p.aliases
                    .iter()
                    .map(|a| Value::String((*a).into()))
                    .collect(),
            ),
        );
        m.insert("fields".into(), Value::Array(fields));
        m.insert("env".into(), Value::Array(env));
        items.push(Value::Object(m));
    }
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::providers::parse_provider;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    fn parse(json: &str, e: &Env) -> Result<crate::gate::providers::Provider, ConfigError> {
        let v: Value = serde_json::from_str(json).unwrap();
        let (v, filled) = with_env_defaults("providers[0]", &v, e);
        parse_provider("providers[0]", &v, e, has_field).map_err(|x| annotate(x, &filled))
    }

    #[test]
    fn eleven_presets_every_alias_parses_to_its_kind() {
        assert_eq!(PRESETS.len(), 11);
        for p in PRESETS {
            assert_eq!(ProviderKind::parse(p.kind.name()), Some(p.kind));
            for a in p.aliases {
                assert_eq!(ProviderKind::parse(a), Some(p.kind), "{a}");
            }
        }
    }

    #[test]
    fn auth0_from_the_environment() {
        let e = env(&[
            ("AUTH0_DOMAIN", "acme.auth0.com"),
            ("AUTH0_AUDIENCE", "api"),
        ]);
        let p = parse(r#"{"type": "auth0"}"#, &e).unwrap();
        assert_eq!(p.issuer.as_deref(), Some("https://acme.auth0.com/"));
        assert_eq!(p.options.audience, ["api"]);
        // The entry wins over the environment.
        let p = parse(r#"{"type": "auth0-jwt", "domain": "other.auth0.com"}"#, &e).unwrap();
        assert_eq!(p.issuer.as_deref(), Some("https://other.auth0.com/"));
        // Missing: the error names the field.
        let err = parse(r#"{"type": "auth0"}"#, &Env::new()).unwrap_err();
        assert_eq!(err.path, "providers[0].domain");
        // A bad value from the environment names the variable, not the value.
        let e = env(&[
            ("AUTH0_DOMAIN", "https://acme.auth0.com/x"),
            ("AUTH0_AUDIENCE", "api"),
        ]);
        let err = parse(r#"{"type": "auth0"}"#, &e).unwrap_err();
        assert!(err.message.contains("AUTH0_DOMAIN"), "{}", err.message);
        assert!(!err.message.contains("acme"), "{}", err.message);
    }

    #[test]
    fn jwt_cognito_keycloak_supabase_from_the_environment() {
        let secret = "0123456789abcdef0123456789abcdef";
        let e = env(&[
            ("JWT_SECRET", secret),
            ("JWT_ISSUER", "https://i"),
            ("JWT_AUDIENCE", "api"),
        ]);
        let p = parse(r#"{"type": "jwt"}"#, &e).unwrap();
        assert_eq!(p.issuer.as_deref(), Some("https://i"));
        assert_eq!(p.options.audience, ["api"]);
        // A key in the entry: the key variables are not read.
        let p = parse(r#"{"type": "jwt", "jwksUrl": "https://i/jwks"}"#, &e).unwrap();
        assert!(matches!(
            p.keys,
            crate::gate::providers::KeySource::Remote { .. }
        ));
        // Two key variables: refused, never a silent choice.
        let e2 = env(&[
            ("JWT_SECRET", secret),
            ("JWT_PUBLIC_KEY", "x"),
            ("JWT_ISSUER", "https://i"),
        ]);
        assert!(parse(r#"{"type": "jwt"}"#, &e2).is_err());
        let e = env(&[
            ("COGNITO_USER_POOL_ID", "eu-west-1_abc"),
            ("AWS_REGION", "eu-west-1"),
            ("COGNITO_CLIENT_ID", "c"),
        ]);
        let p = parse(r#"{"type": "aws-cognito"}"#, &e).unwrap();
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc")
        );
        let e = env(&[
            ("KEYCLOAK_SERVER_URL", "https://kc.example"),
            ("KEYCLOAK_REALM", "r"),
            ("KEYCLOAK_CLIENT_ID", "c"),
        ]);
        let p = parse(r#"{"type": "keycloak"}"#, &e).unwrap();
        assert_eq!(p.issuer.as_deref(), Some("https://kc.example/realms/r"));
        let e = env(&[
            ("SUPABASE_URL", "https://x.supabase.co"),
            ("SUPABASE_JWT_SECRET", secret),
        ]);
        let p = parse(r#"{"type": "supabase"}"#, &e).unwrap();
        assert!(matches!(p.keys, crate::gate::providers::KeySource::Key(_)));
        let e = env(&[
            ("FIREBASE_PROJECT_ID", "proj"),
            ("WORKOS_CLIENT_ID", "client_1"),
            ("BETTER_AUTH_BASE_URL", "https://a.example"),
        ]);
        assert!(parse(r#"{"type": "firebase"}"#, &e).is_ok());
        assert!(parse(r#"{"type": "workos"}"#, &e).is_ok());
        assert!(parse(r#"{"type": "better-auth"}"#, &e).is_ok());
        let e = env(&[
            ("OAUTH2_ISSUER", "https://id.example"),
            ("OAUTH2_INTROSPECTION_URL", "https://id.example/introspect"),
            ("OAUTH2_CLIENT_ID", "gw"),
            ("OAUTH2_CLIENT_SECRET", "s"),
        ]);
        let p = parse(r#"{"type": "oidc", "introspection": {}}"#, &e).unwrap();
        assert!(p.introspection.is_some());
    }

    #[test]
    fn catalog_lists_every_variable_of_the_seed() {
        let c = catalog_json().to_string();
        for v in [
            "AUTH0_DOMAIN",
            "AUTH0_CLIENT_ID",
            "AUTH0_AUDIENCE",
            "SUPABASE_URL",
            "SUPABASE_JWT_SECRET",
            "FIREBASE_PROJECT_ID",
            "COGNITO_USER_POOL_ID",
            "COGNITO_REGION",
            "AWS_REGION",
            "KEYCLOAK_SERVER_URL",
            "KEYCLOAK_REALM",
            "KEYCLOAK_CLIENT_ID",
            "WORKOS_CLIENT_ID",
            "BETTER_AUTH_BASE_URL",
            "OAUTH2_CLIENT_ID",
            "OAUTH2_JWKS_URL",
            "JWT_SECRET",
            "JWT_PUBLIC_KEY",
            "JWT_ISSUER",
            "JWT_AUDIENCE",
        ] {
            assert!(c.contains(v), "{v}");
        }
    }
}
