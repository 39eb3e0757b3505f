-- wrk script: each request fetches a different (instance, connection) from targets.txt,
-- with that instance's proxy key.
local targets = {}

function init(args)
  for line in io.lines(args[1]) do
    local instance, key, provider, name = line:match("(%S+) (%S+) (%S+) (%S+)")
    targets[#targets + 1] = {
      path = "/internal/v1/instances/" .. instance .. "/connections?provider=" .. provider .. "&name=" .. name,
      headers = {["Authorization"] = "Bearer " .. key, ["Connection"] = "keep-alive"},
    }
  end
  math.randomseed(os.time() + tonumber(tostring(targets):match("0x(%x+)") or "0", 16))
end

function request()
  local t = targets[math.random(#targets)]
  return wrk.format("GET", t.path, t.headers)
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d\n", summary.errors.status))
end
