-- wrk script for bench/soak.sh: a customer admin's mix on the control plane, one API key,
-- at most one request per connection every DELAY ms, counting answers by status:
-- list connections, list instances, create an instance, create a connection (sealed to the
-- broker key), read the audit trail, an invalid body (422), the health check.
--   wrk ... -s bench/soak_cp.lua URL -- CUSTOMER_ID API_KEY DELAY_MS
local threads = {}
counts = {}  -- a global: thread:get reads globals only
local customer, headers
local n = 0
local delay_ms = 0

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  customer = "/v1/customers/" .. args[1]
  headers = {["X-Api-Key"] = args[2], ["Connection"] = "keep-alive", ["Content-Type"] = "application/json"}
  delay_ms = tonumber(args[3])
end

function delay()
  return delay_ms
end

function request()
  n = n + 1
  local name = "soak-" .. index .. "-" .. n
  local step = n % 8
  if step == 0 then return wrk.format("GET", customer .. "/connections?limit=50&offset=0", headers) end
  if step == 1 then return wrk.format("GET", customer .. "/instances", headers) end
  if step == 2 then return wrk.format("POST", customer .. "/instances", headers, '{"name":"' .. name .. '"}') end
  if step == 3 then
    return wrk.format("POST", customer .. "/connections", headers,
      '{"provider":"gmail","name":"' .. name .. '","auth_type":"oauth2","credentials":' ..
      '{"access_token":"at-' .. name .. '","refresh_token":"rt","expires_in":3600},"scopes":["mail"]}')
  end
  if step == 4 then return wrk.format("GET", customer .. "/audit-events?limit=20", headers) end
  if step == 5 then return wrk.format("POST", customer .. "/instances", headers, '{"name":""}') end
  if step == 6 then return wrk.format("GET", customer .. "/connections?provider=gmail&status=active", headers) end
  return wrk.format("GET", "/healthz", {["Connection"] = "keep-alive"})
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, c in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + c end
  end
  for status, c in pairs(total) do io.write(string.format("status %d %d\n", status, c)) end
  local e = summary.errors
  io.write(string.format("errors connect %d read %d write %d timeout %d\n", e.connect, e.read, e.write, e.timeout))
end
