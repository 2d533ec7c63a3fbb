# Sourced by the scripts that test a live local stack (schemathesis.sh, portal-e2e.sh):
# `start_local_stack <name>` builds hookline-local, starts it on a free port with generated keys
# (its own emulators on free ports), stops it on exit whatever happens, and waits until it is
# ready. It sets `port`, `base`, `key` (the dev account's) and `operator` (an operator key).
# KEEP_STACK_LOG=1 keeps the stack's log and says where it is.

start_local_stack() {
  local name="$1"
  local token='import secrets; print(secrets.token_urlsafe(24))'
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  key="hl_prod_${name}_$(python3 -c "$token")"
  operator="hlop_prod_${name}_$(python3 -c "$token")"
  stack_log="$(mktemp -t "hookline-$name.XXXXXX")"
  cargo build --quiet --bin hookline-local

  PORT="$port" DEV_API_KEY="$key" DEV_OPERATOR_KEY="$operator" ALLOW_HTTP_WEBHOOKS=true \
    target/debug/hookline-local dev >"$stack_log" 2>&1 &
  stack_pid=$!
  trap stop_local_stack EXIT

  for _ in $(seq 1 120); do
    grep -q "Hookline is ready" "$stack_log" && return 0
    kill -0 "$stack_pid" 2>/dev/null || { echo "$name: the local stack did not start:" >&2; cat "$stack_log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$name: the local stack was not ready in 60 s" >&2
  cat "$stack_log" >&2
  exit 1
}

stop_local_stack() {
  kill -TERM "$stack_pid" 2>/dev/null || true
  wait "$stack_pid" 2>/dev/null || true
  if [ -n "${KEEP_STACK_LOG:-}" ]; then echo "the stack's log: $stack_log" >&2; else rm -f "$stack_log"; fi
}
