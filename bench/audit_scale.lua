-- wrk script for bench/audit_scale.sh: each request is a random line of a targets file,
-- "API_KEY PATH" (one customer's key and a listing path of that customer's).
local targets = {}

function init(args)
  for line in io.lines(args[1]) do
    local key, path = line:match("(%S+) (%S+)")
    targets[#targets + 1] = {path = path, headers = {["X-Api-Key"] = key, ["Connection"] = "keep-alive"}}
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
