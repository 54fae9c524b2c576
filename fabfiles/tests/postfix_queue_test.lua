-- Unit tests for postfix_queue.lua: gofab test fabfiles
local t = require("testing")

-- queue returns postqueue -j's output for messages {queue, minutes ago,
-- recipients...}.
local function queue(msgs)
  local lines = {}
  for i, m in ipairs(msgs) do
    local rcpts = {}
    for j = 3, #m do rcpts[#rcpts + 1] = string.format('{"address": "%s", "delay_reason": "connect refused"}', m[j]) end
    lines[#lines + 1] = string.format('{"queue_name": "%s", "queue_id": "Q%d", "arrival_time": %d, "message_size": 300, ' ..
      '"sender": "app@example.org", "recipients": [%s]}', m[1], i, os.time() - m[2] * 60, table.concat(rcpts, ", "))
  end
  return table.concat(lines, "\n") .. "\n"
end

t.case("one table across hosts, by domain and age", {hosts = {"mx1", "mx2"}}, function(mx1, mx2)
  mx1:respond("^/usr/sbin/postqueue %-j$", {stdout = queue({
    {"deferred", 1, "a@one.invalid", "b@one.invalid"},
    {"deferred", 15, "c@two.invalid"},
    {"active", 1, "d@one.invalid"},
  })})
  mx2:respond("^/usr/sbin/postqueue %-j$", {stdout = queue({
    {"deferred", 2000, "e@one.invalid"},
  })})
  local r = mx1:run_task("postfix_queue.report")
  t.equal(r.value, {["one.invalid"] = 3, ["two.invalid"] = 1})
  mx1:assert_output("deferred queue of 2 hosts %(mx1, mx2%)")
  --                         T      5     10     20 ...   1280  1280+
  mx1:assert_output("TOTAL +4 +2 +0 +1 +0 +0 +0 +0 +0 +0 +1$")
  mx1:assert_output("one.invalid +3 +2 +0 +0 +0 +0 +0 +0 +0 +0 +1$")
  mx1:assert_output("two.invalid +1 +0 +0 +1 +0")
  -- runs_once: one report, each host's queue read once
  local reports = 0
  for line in r.output:gmatch("[^\n]+") do
    if line:find("deferred queue of") then reports = reports + 1 end
  end
  t.equal(reports, 1)
  mx1:assert_ran("postqueue %-j")
  mx2:assert_ran("postqueue %-j")
end)

t.case("another queue", function(h)
  h:respond("^/usr/sbin/postqueue %-j$", {stdout = queue({{"active", 1, "x@three.invalid"}})})
  local r = h:run_task("postfix_queue.report", {queue = "active"})
  t.equal(r.value, {["three.invalid"] = 1})
end)
