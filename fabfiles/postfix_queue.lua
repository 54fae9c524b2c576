-- The seed post on Postfix: a report of the deferred queue by recipient
-- domain and age, like Postfix's qshape, but for every host at once:
-- each host reads its queue (postqueue -j, one JSON object per message)
-- and one table adds them up.
--
--   gofab -f fabfiles/fabfile.lua -H mx1,mx2,mx3 postfix_queue.report
--   gofab -f fabfiles/fabfile.lua -H mx1,mx2 postfix_queue.report:queue=active
-- (postqueue -j needs Postfix 3.1 or later, and the mail system up.)
local json = require("json")

local M = {}

-- The age buckets, in minutes, as qshape has them.
M.buckets = {5, 10, 20, 40, 80, 160, 320, 640, 1280}

-- bucket returns the index of the bucket an age in minutes falls in
-- (#M.buckets + 1 for older).
function M.bucket(minutes)
  for i, limit in ipairs(M.buckets) do
    if minutes < limit then return i end
  end
  return #M.buckets + 1
end

-- shape counts the recipients of a queue's messages from postqueue -j's
-- output: a list of {domain, bucket, count}, plain data that execute()
-- can hand back.
function M.shape(text, queue, now)
  local counts = {}
  for line in text:gmatch("[^\n]+") do
    local msg = json.decode(line)
    if msg.queue_name == queue then
      local b = M.bucket((now - msg.arrival_time) / 60)
      for _, rcpt in ipairs(msg.recipients or {}) do
        local domain = (rcpt.address:match("@([^@]+)$") or rcpt.address):lower()
        local key = domain .. " " .. b
        counts[key] = counts[key] or {domain = domain, bucket = b, count = 0}
        counts[key].count = counts[key].count + 1
      end
    end
  end
  local list = {}
  for _, c in pairs(counts) do list[#list + 1] = c end
  return list
end

-- add adds a host's shape to counts[domain][bucket].
function M.add(counts, shape)
  for _, c in ipairs(shape) do
    counts[c.domain] = counts[c.domain] or {}
    counts[c.domain][c.bucket] = (counts[c.domain][c.bucket] or 0) + c.count
  end
end

-- table_text lays the counts out as qshape does: a total row, then one
-- row per domain, most recipients first.
function M.table_text(counts)
  local header = {"domain", "T"}
  for _, b in ipairs(M.buckets) do header[#header + 1] = tostring(b) end
  header[#header + 1] = tostring(M.buckets[#M.buckets]) .. "+"
  local rows, total = {}, {}
  for domain, byBucket in pairs(counts) do
    local row, sum = {domain}, 0
    for i = 1, #M.buckets + 1 do
      sum = sum + (byBucket[i] or 0)
      total[i] = (total[i] or 0) + (byBucket[i] or 0)
    end
    row[2] = sum
    for i = 1, #M.buckets + 1 do row[i + 2] = byBucket[i] or 0 end
    rows[#rows + 1] = row
  end
  table.sort(rows, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] end return a[1] < b[1] end)
  ---@type (string|number)[] the name, then counts
  local trow = {"TOTAL"}
  local tsum = 0
  for i = 1, #M.buckets + 1 do tsum = tsum + (total[i] or 0); trow[i + 2] = total[i] or 0 end
  trow[2] = tsum
  table.insert(rows, 1, trow)
  local lines = {string.format("%-24s" .. string.rep(" %6s", #header - 1), unpack(header))}
  for _, r in ipairs(rows) do
    lines[#lines + 1] = string.format("%-24s" .. string.rep(" %6d", #r - 1), unpack(r))
  end
  return table.concat(lines, "\n")
end

task("collect", "Count this host's queued recipients by domain and age (used by report): queue=deferred", function(args)
  -- postqueue is in /usr/sbin, which a login user's PATH may lack.
  local r = hide("running", "stdout", function() return run("/usr/sbin/postqueue -j") end)
  return M.shape(r.stdout, args.queue or args[1] or "deferred", os.time())
end)

task("report", {runs_once = true, doc = "One table of the deferred queue by recipient domain and age (minutes), across all hosts: queue=deferred"}, function(args)
  local perHost = execute("postfix_queue.collect", {}, args.queue or "deferred")
  local counts, answered = {}, {}
  for h, shape in pairs(perHost) do
    if shape.error then
      puts("no queue from " .. h .. ": " .. shape.error)
    else
      answered[#answered + 1] = h
      M.add(counts, shape)
    end
  end
  table.sort(answered)
  puts((args.queue or "deferred") .. " queue of " .. #answered .. " hosts (" .. table.concat(answered, ", ") .. "):\n" .. M.table_text(counts))
  -- The report's value: recipients per domain.
  local byDomain = {}
  for domain, byBucket in pairs(counts) do
    local n = 0
    for _, c in pairs(byBucket) do n = n + c end
    byDomain[domain] = n
  end
  return byDomain
end)

return M
