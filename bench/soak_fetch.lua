-- wrk script for bench/soak.sh: credential fetches over random (instance, connection) pairs of
-- targets.txt, at most one request per connection every DELAY ms, counting answers by status.
-- The X-Request-Id of every 200 goes to OUT/ids-<thread>.txt, for the audit check.
--   wrk ... -s bench/soak_fetch.lua URL -- targets.txt OUT DELAY_MS
local threads = {}
local targets = {}
counts = {}  -- a global: thread:get reads globals only
local ids
local delay_ms = 0

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local instance, key, provider, name = line:match("(%S+) (%S+) (%S+) (%S+)")
    targets[#targets + 1] = wrk.format("GET",
      "/internal/v1/instances/" .. instance .. "/connections?provider=" .. provider .. "&name=" .. name,
      {["Authorization"] = "Bearer " .. key, ["Connection"] = "keep-alive"})
  end
  ids = io.open(args[2] .. "/ids-" .. index .. ".txt", "w")
  ids:setvbuf("line")  -- every id is on disk before the check reads the files
  delay_ms = tonumber(args[3])
  math.randomseed(os.time() + index)
end

function delay()
  return delay_ms
end

function request()
  return targets[math.random(#targets)]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status == 200 then
    ids:write((headers["X-Request-Id"] or headers["x-request-id"] or "MISSING"), "\n")
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("status %d %d\n", status, n)) end
  local e = summary.errors
  io.write(string.format("errors connect %d read %d write %d timeout %d\n", e.connect, e.read, e.write, e.timeout))
end
