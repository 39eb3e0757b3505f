-- wrk script for the cold pass: every (instance, connection) of targets.txt fetched once, in
-- file order, the list split between wrk's threads; a thread stops once it has its answers.
-- (The few requests a connection sends after its thread's list ran out repeat its first one.)
local targets = {}
local next_target, answered = 0, 0
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local threads = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % threads == thread_index then
      local instance, key, provider, name = line:match("(%S+) (%S+) (%S+) (%S+)")
      targets[#targets + 1] = wrk.format("GET",
        "/internal/v1/instances/" .. instance .. "/connections?provider=" .. provider .. "&name=" .. name,
        {["Authorization"] = "Bearer " .. key, ["Connection"] = "keep-alive"})
    end
    i = i + 1
  end
end

function request()
  next_target = next_target + 1
  return targets[next_target] or targets[1]
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= #targets then wrk.thread:stop() end
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d\n", summary.errors.status))
end
