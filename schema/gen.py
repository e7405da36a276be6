#!/usr/bin/env python3
"""Writes config.schema.json (JSON Schema 2020-12) for the edgegate gate config.
The Rust parser (src/config.rs, src/providers.rs, src/route.rs, src/rbac.rs) is the
authority; tests/config.rs checks that examples and docs/config.md agree with this schema.
Run: python3 schema/gen.py"""
import json, os

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
S = {"type": "string"}
SOE = {"$ref": "#/$defs/stringOrEnv"}
SOL = {"$ref": "#/$defs/stringOrList"}
STRS = {"type": "array", "items": {"type": "string"}}


def obj(props, required=(), **kw):
    o = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        o["required"] = list(required)
    o.update(kw)
    return o


common = {
    "name": dict(S, description="Unique provider name (default: the canonical type)."),
    "issuer": dict(SOE, description="Expected `iss`; tokens are routed to the provider by it."),
    "audience": dict(SOL, description="Accepted `aud` values."),
    "jwksUrl": dict(SOE, description="JWKS URL override (https)."),
    "algorithms": {"type": "array", "items": {"enum": ALGS}, "minItems": 1},
    "clockTolerance": {"type": "integer", "minimum": 0, "maximum": 300},
    "rolesClaim": SOL,
    "permissionsClaim": SOL,
    "orgClaim": S,
    "requiredClaims": STRS,
    "claims": {"type": "array", "items": {"$ref": "#/$defs/claimCondition"}},
}
presets = {
    "auth0": (["auth0", "auth0-jwt", "auth0-oauth"], {"domain": SOE, "clientId": SOE, "claimsNamespace": S}, ["domain", "audience"]),
    "clerk": (["clerk", "clerk-jwt"], {"jwtKey": SOE, "allowedOrigins": STRS}, ["issuer"]),
    "firebase": (["firebase", "firebase-auth"], {"projectId": SOE}, ["projectId"]),
    "supabase": (["supabase", "supabase-auth"], {"url": SOE, "jwtSecret": SOE}, ["url"]),
    "cognito": (["cognito", "aws-cognito", "amazon-cognito"],
                {"userPoolId": SOE, "region": SOE, "clientId": SOE, "tokenUse": {"enum": ["access", "id"]}},
                ["userPoolId", "region", "clientId"]),
    "keycloak": (["keycloak", "keycloak-oidc"], {"serverUrl": SOE, "realm": SOE, "clientId": SOE}, ["serverUrl", "realm", "clientId"]),
    "workos": (["workos", "workos-sso", "work-os"], {"clientId": SOE}, ["clientId"]),
    "better-auth": (["better-auth", "betterauth", "better_auth"], {"baseUrl": SOE}, ["baseUrl"]),
    "oauth2": (["oauth2", "oauth", "oidc", "openid-connect"], {"introspection": {"$ref": "#/$defs/introspection"}}, ["issuer"]),
    "jwt": (["jwt", "jwt-auth", "jwt-token"], {"secret": SOE, "publicKey": SOE, "jwks": {"type": "object"}}, ["issuer"]),
    "custom": (["custom", "custom-auth"], {"secret": SOE, "publicKey": SOE, "jwks": {"type": "object"}}, []),
}
provider_defs = {}
for name, (types, extra, req) in presets.items():
    props = {"type": {"enum": types}}
    props.update(common)
    props.update(extra)
    # The preset's fields (`req`) may come from the environment (AUTH0_DOMAIN, JWT_SECRET, ...:
    # src/gate/presets.rs), so the schema requires only `type`; the gate reports a field
    # that is neither in the entry nor in the environment.
    provider_defs["provider-" + name] = obj(props, ["type"], title=f"{name} provider",
        description=("needs " + ", ".join(req) + " (in the entry or from the environment)") if req else f"{name} provider")

defs = {
    "stringOrEnv": {"oneOf": [S, obj({"env": dict(S, minLength=1)}, ["env"])],
                    "description": "A literal string, or {\"env\": \"NAME\"} read from the host's environment."},
    "stringOrList": {"oneOf": [S, STRS]},
    "claimCondition": {"oneOf": [
        obj({"claim": S, "equals": {}}, ["claim", "equals"]),
        obj({"claim": S, "in": {"type": "array", "minItems": 1}}, ["claim", "in"]),
        obj({"claim": S, "equalsParam": S}, ["claim", "equalsParam"]),
        obj({"claim": S, "exists": {"const": True}}, ["claim", "exists"]),
    ]},
    "introspection": obj({"url": SOE, "clientId": SOE, "clientSecret": SOE, "cacheTtl": {"type": "integer", "minimum": 0, "maximum": 3600}},
                         ["url", "clientId", "clientSecret"]),
    "tokenSource": {"oneOf": [
        obj({"header": dict(S, minLength=1), "scheme": S}, ["header"]),
        obj({"cookie": dict(S, minLength=1), "session": {"type": "boolean"}}, ["cookie"]),
        obj({"query": dict(S, minLength=1)}, ["query"]),
    ]},
    "provider": {"oneOf": [{"$ref": "#/$defs/" + k} for k in provider_defs]},
    **provider_defs,
    "route": obj({
        "name": S,
        "path": dict(S, pattern="^/"),
        "methods": STRS,
        "public": {"type": "boolean"},
        "providers": STRS,
        "roles": STRS,
        "rolesMode": {"enum": ["any", "all"]},
        "permissions": STRS,
        "claims": {"type": "array", "items": {"$ref": "#/$defs/claimCondition"}},
        "mtls": {"oneOf": [{"type": "boolean"}, obj({"fingerprints": STRS})]},
        "shadow": {"type": "boolean"},
        "rateLimits": dict(STRS, description="Names of `rateLimits` policies that apply (all of them)."),
    }, ["path"]),
    "rateLimit": obj({
        "name": dict(S, minLength=1, description="1..64 printable ASCII characters, unique."),
        "algorithm": {"enum": ["gcra", "sliding-window", "fixed-window"]},
        "limit": {"type": "integer", "minimum": 1, "maximum": 999999999999999},
        "window": {"oneOf": [{"type": "integer", "minimum": 1}, dict(S, minLength=2, description="<n>ms, <n>s, <n>m, <n>h or <n>d.")]},
        "cost": {"type": "integer", "minimum": 1},
        "key": {"oneOf": [
            {"enum": ["sub", "apiKey", "org", "ip"]},
            obj({"claim": dict(S, minLength=1)}, ["claim"]),
            obj({"header": dict(S, minLength=1)}, ["header"]),
        ]},
        "roleLimits": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 999999999999999}},
        "skipRoles": STRS,
        "store": {"enum": ["memory", "redis", "kv", "durable-object"]},
        "onStoreError": {"enum": ["local", "allow", "deny"]},
        "timeoutMs": {"type": "integer", "minimum": 1, "maximum": 10000},
    }, ["name", "limit", "window", "key"]),
    "role": obj({"inherits": STRS, "permissions": STRS}),
}
headers = {k: {"type": ["string", "null"]} for k in ["userId", "roles", "permissions", "provider", "org", "claims"]}
schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.invalid/edgegate/config.schema.json",
    "title": "edgegate gate configuration",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": S,
        "enabled": {"oneOf": [{"type": "boolean"}, SOE]},
        "realm": S,
        "tokenSources": {"type": "array", "items": {"$ref": "#/$defs/tokenSource"}, "minItems": 1},
        "providers": {"type": "array", "items": {"$ref": "#/$defs/provider"}},
        "apiKeys": obj({"enabled": {"type": "boolean"}}),
        "revocation": obj({"enabled": {"type": "boolean"}}),
        "rbac": obj({"roles": {"type": "object", "additionalProperties": {"$ref": "#/$defs/role"}}, "superAdmins": STRS}),
        "routes": {"type": "array", "items": {"$ref": "#/$defs/route"}},
        "caseInsensitivePaths": {"type": "boolean"},
        "rateLimits": {"type": "array", "items": {"$ref": "#/$defs/rateLimit"}, "description": "At most 64 policies."},
        "rateLimitHeaders": dict({"type": "boolean"}, description="Send RateLimit-Policy and RateLimit on limited routes (default true)."),
        "identityHeaders": obj(headers),
        "cors": obj({
            "preflight": dict({"type": "boolean"}, description="Answer CORS preflights at the edge (never forwarded)."),
            "origins": dict(STRS, description="Exact serialized origins, http(s)://host[:port] in lowercase (empty: any, answered with `*`)."),
            "methods": dict(STRS, description="Access-Control-Allow-Methods (HTTP tokens)."),
            "headers": dict(STRS, description="Access-Control-Allow-Headers (HTTP tokens)."),
            "echoHeaders": {"type": "boolean"},
            "maxAge": {"type": "integer", "minimum": 0, "maximum": 86400},
            "credentials": dict({"type": "boolean"}, description="Needs a non-empty `origins`."),
        }),
    },
    "$defs": defs,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.schema.json")
with open(out, "w") as f:
    json.dump(schema, f, indent=2)
    f.write("\n")
print("wrote", out)
