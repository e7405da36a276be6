#!/usr/bin/env bash
# The main job, locally: the gate deciding a series of requests on the built-in demo
# config (examples/gate.json). JWT_SECRET may be set; otherwise a demo secret is used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Only cargo is needed for this demo (the core has no I/O; the demo host is examples/demo.rs).
exec cargo run --quiet --release --example demo -- "${1:-examples/gate.json}"
