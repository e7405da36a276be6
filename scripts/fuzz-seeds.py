#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from the test vectors
and fixtures (tests/vectors, tests/fixtures, the config docs). The corpora are not committed
(fuzz/.gitignore): run this, or scripts/fuzz.sh, which runs it first. Idempotent: a seed is
named by the SHA-1 of its bytes, as libFuzzer names its own corpus entries."""
import base64, glob, hashlib, json, os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "fuzz", "corpus")
seeds = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.setdefault(target, set()).add(bytes(data))


def load(path):
    with open(os.path.join(root, path), "rb") as f:
        return f.read()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def walk(v, f):
    f(v)
    if isinstance(v, dict):
        for x in v.values():
            walk(x, f)
    elif isinstance(v, list):
        for x in v:
            walk(x, f)


JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")
tokens = set()
jwks = []
for path in ["tests/fixtures/gate/tokens.json", "tests/fixtures/jose/tokens.json",
             "tests/fixtures/keys/keys.json"] + sorted(glob.glob(os.path.join(root, "tests/vectors/wycheproof/*_test.json"))):
    doc = json.loads(load(os.path.relpath(path, root) if os.path.isabs(path) else path))
    def visit(v):
        if isinstance(v, str) and len(v) < 20000 and JWT.match(v):
            tokens.add(v)
        if isinstance(v, dict) and "kty" in v:
            jwks.append(v)
        if isinstance(v, dict) and isinstance(v.get("keys"), list):
            add("jwks_import", json.dumps(v))
    walk(doc, visit)

for t in sorted(tokens):
    add("token_parse", t)
    for part in t.split(".")[:2]:
        try:
            add("json_differential", b64d(part))
        except Exception:
            pass
for k in jwks:
    add("jwk_import", json.dumps(k))
    add("json_differential", json.dumps(k))
add("jwks_import", load("tests/fixtures/gate/jwks.json"))
add("jwks_import", json.dumps({"keys": [k for k in jwks if k.get("kty") != "oct"][:8]}))

for pem in sorted(glob.glob(os.path.join(root, "tests/fixtures/gate/*public*.pem"))):
    text = open(pem, "rb").read()
    add("pem_import", text)
    body = b"".join(l for l in text.splitlines() if l and not l.startswith(b"-----"))
    add("pem_import", base64.b64decode(body))

# Configs: the JSON blocks of docs/config.md and the README that parse as objects.
for doc in ["docs/config.md", "README.md"]:
    text = load(doc).decode("utf-8", "replace")
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        try:
            if isinstance(json.loads(block), dict):
                add("config_parse", block)
                add("json_differential", block)
        except ValueError:
            pass
add("config_parse", '{"providers":[{"type":"jwt","name":"m","secret":{"env":"JWT_SECRET"}}],'
    '"routes":[{"path":"/api/**"},{"path":"/health","public":true}]}')

for p in ["/", "/api/x", "/api/../admin/x", "/api/%2e%2e/admin", "/a/./b//c/", "/a%2Fb",
          "/%C3%A9t%C3%A9", "/admin./x", "/x;jsessionid=1", "/..;/admin", "/a?b=/../c#d",
          "/%252e%252e/", "/\u00e9", "/a/b/../../../../c"]:
    add("path_normalize", p)
for k in ["egk_", "egk_" + "A" * 12 + "_" + "B" * 32 + "_" + "C" * 6, "Bearer x", ""]:
    add("api_key_parse", k)

for target, items in seeds.items():
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for data in items:
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
print("fuzz seeds: " + ", ".join(f"{t} {len(v)}" for t, v in sorted(seeds.items())), file=sys.stderr)
