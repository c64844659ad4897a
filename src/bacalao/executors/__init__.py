"""Executors: how a compute node runs one task, one plugin per engine.

base, registry      the plugin interface; engine type name → executor
config, guard       a node's executor settings; checks every engine makes
output, results     capped task output; the results folder contract
noop                pretend to run (tests, demos)
docker*             containers of the local Docker engine (docker SDK)
http_policy/proxy   what an `HTTP`-network task may reach
wasm*               WASI modules with wasmtime
exceptions          the package's errors
"""
