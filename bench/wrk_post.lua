-- wrk script for bench/load.py: every request POSTs the same GraphQL JSON body.
-- BENCH_BODY_FILE names the file holding the body; BENCH_AUTHORIZATION, when set, is sent as the
-- Authorization header (the agent's bearer token). Responses that are not HTTP 200 are counted by
-- wrk itself ("Non-2xx or 3xx responses"); the harness checks the bodies before and after a run.
local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
local authorization = os.getenv("BENCH_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then
  wrk.headers["Authorization"] = authorization
end
