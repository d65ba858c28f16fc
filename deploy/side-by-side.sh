#!/bin/sh
# Fluent Bit with the shipped pipeline and the collector beside it, on this machine, until Ctrl-C: the shell
# version of compose.yaml, for a host with Fluent Bit installed (4.2+). Run from a checkout (after npm run build)
# or from the installed package:
#   deploy/side-by-side.sh                          the demo through a real Fluent Bit (ECS documents on stdout)
#   deploy/side-by-side.sh --api-key-file key.txt   real data; any collector option may follow
# FLUENT_BIT_BIN picks the Fluent Bit executable (default: fluent-bit on PATH), FORWARD_PORT the port of its
# forward input on 127.0.0.1 (default 24224) and FLUENT_BIT_HTTP_PORT that of its HTTP server (default 2020), which
# the collector reads (--fluent-bit-http) so that a restart of the collector alone sends nothing stored again; both
# must be free. Fluent Bit's storage is the temporary one printed by `fluent-bit-command`; for production use the
# systemd unit and conf/jumpcloud.env.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cli="$root/dist/input/cli.js"
[ -f "$cli" ] || { echo "side-by-side.sh: $cli is missing: run npm run build first" >&2; exit 2; }
fluent_bit=${FLUENT_BIT_BIN:-fluent-bit}
command -v "$fluent_bit" >/dev/null 2>&1 || { echo "side-by-side.sh: no Fluent Bit at '$fluent_bit': install Fluent Bit 4.2+ or set FLUENT_BIT_BIN" >&2; exit 2; }

port=${FORWARD_PORT:-24224}
http_port=${FLUENT_BIT_HTTP_PORT:-2020}
# Refuse a port something else already listens on: the collector would deliver there (or ask that) instead.
refuse_busy() {
  node -e '
    const s = require("node:net").connect(Number(process.argv[1]), "127.0.0.1", () => { console.error(`side-by-side.sh: something already listens on 127.0.0.1:${process.argv[1]}: stop it or set ${process.argv[2]}`); process.exit(2); });
    s.on("error", () => process.exit(0));
  ' "$1" "$2"
}
refuse_busy "$port" FORWARD_PORT
refuse_busy "$http_port" FLUENT_BIT_HTTP_PORT

sh -c "$(node "$cli" fluent-bit-command --fluent-bit "$fluent_bit" --forward "127.0.0.1:$port" --http-port "$http_port")" &
fb=$!
trap 'kill "$fb" 2>/dev/null || true; wait "$fb" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
# Start the collector once the forward input listens (the demo forwards only to a Fluent Bit it finds at start).
node -e '
  const net = require("node:net");
  const port = Number(process.argv[1]);
  const until = Date.now() + 30000;
  (function probe() {
    const s = net.connect(port, "127.0.0.1", () => { s.destroy(); process.exit(0); });
    s.on("error", () => { if (Date.now() > until) { console.error(`side-by-side.sh: Fluent Bit did not listen on 127.0.0.1:${port} within 30 s`); process.exit(1); } setTimeout(probe, 200); });
  })();
' "$port"
node "$cli" --forward "127.0.0.1:$port" --fluent-bit-http "127.0.0.1:$http_port" "$@"
