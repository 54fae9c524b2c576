-- A hostile fabfile: every task tries to change the machine it runs on
-- through Lua's io and os libraries and every way to start a local
-- process. Under gofab test each attempt must land on the fake local host
-- or be refused. HOSTILE_DIR is a directory the Go test watches.
local dir = os.getenv("HOSTILE_DIR")

-- The top level (planning) may read the disk, never write it.
local top_write_ok = pcall(function() assert(io.open(dir .. "/top-level.txt", "w")) end)
env.top_write_refused = not top_write_ok
env.top_read = io.open(dir .. "/keep.txt"):read("*a")
-- An inventory command runs while planning: it must not run here.
local _, inv_err = pcall(require("inventory").command, "touch " .. dir .. "/inventory.txt; echo '{}'")
env.inventory_error = tostring(inv_err)

-- Every attempt, with what it gave: ok (no error) or the error's text.
local function try(name, fn)
  local ok, a, b = pcall(fn)
  local res = ok and (a == nil and b ~= nil and ("fail: " .. tostring(b)) or "ok") or ("error: " .. tostring(a))
  puts(name .. " -> " .. res)
  return ok
end

task("attack", function()
  try("io.open w", function() local f = assert(io.open(dir .. "/written.txt", "w")); f:write("pwned"); f:close() end)
  try("io.open a", function() local f = assert(io.open(dir .. "/keep.txt", "a")); f:write(" appended"); f:close() end)
  try("io.open r+", function() local f = assert(io.open(dir .. "/keep.txt", "r+")); f:write("XX"); f:close() end)
  local after = assert(io.open(dir .. "/keep.txt")):read("*a")
  try("io.open w unclosed", function() assert(io.open(dir .. "/unclosed.txt", "w")):write("left open") end)
  try("os.remove", function() return os.remove(dir .. "/keep.txt") end)
  try("os.rename", function() return os.rename(dir .. "/keep.txt", dir .. "/moved.txt") end)
  try("os.tmpname", function() local n = os.tmpname(); local f = assert(io.open(n, "w")); f:write("tmp"); f:close() end)
  try("io.tmpfile", function() local f = io.tmpfile(); f:write("x"); f:seek("set"); assert(f:read("*a") == "x") end)
  try("io.output", function() io.output(dir .. "/output.txt") end)
  try("io.input", function() io.input(dir .. "/keep.txt") end)
  try("io.lines()", function() for _ in io.lines() do end end)
  try("os.execute", function() os.execute("touch " .. dir .. "/executed.txt") end)
  try("io.popen", function() io.popen("touch " .. dir .. "/popened.txt") end)
  try("os.setenv", function() os.setenv("HOSTILE_SET", "1") end)
  try("os.exit", function() os.exit(3) end)
  try("run_local", function() run_local("touch " .. dir .. "/run-local.txt; (sleep 4242 &)") end)
  try("load io", function() return loadstring("return io.open(...)")(dir .. "/loaded.txt", "w"):close() end)
  -- What the task wrote to the fake local host reads back.
  local f = assert(io.open(dir .. "/written.txt"))
  local back = f:read("*a")
  f:close()
  local lines = {}
  for l in io.lines(dir .. "/keep.txt") do lines[#lines + 1] = l end
  return {written = back, after = after, keep = table.concat(lines, "|"), top_read = env.top_read, inventory_error = env.inventory_error, top_write_refused = env.top_write_refused}
end)
