-- A 200-line fabfile for BenchmarkHostState: helpers, settings, tasks,
-- handlers, as a team's recipe file has them.
local files = require("files")
local cuisine = require("cuisine")

env.app = {name = "shop", root = "/srv/shop", port = 8000}
env.roledefs = {web = {hosts = {"web1", "web2"}}, db = {hosts = {"db1"}}}

local M = {}

-- helper0 builds the command line of step 0.
function M.helper0(x)
  local parts = {"step", "0", tostring(x)}
  return table.concat(parts, " ")
end

task("task0", "Task number 0", function(args)
  cd(env.app.root, function() run(M.helper0(args[1] or "all")) end)
  if files.exists("/etc/app0.conf") then sudo("systemctl reload app0") end
end)

-- helper1 builds the command line of step 1.
function M.helper1(x)
  local parts = {"step", "1", tostring(x)}
  return table.concat(parts, " ")
end

task("task1", "Task number 1", function(args)
  cd(env.app.root, function() run(M.helper1(args[1] or "all")) end)
  if files.exists("/etc/app1.conf") then sudo("systemctl reload app1") end
end)

-- helper2 builds the command line of step 2.
function M.helper2(x)
  local parts = {"step", "2", tostring(x)}
  return table.concat(parts, " ")
end

task("task2", "Task number 2", function(args)
  cd(env.app.root, function() run(M.helper2(args[1] or "all")) end)
  if files.exists("/etc/app2.conf") then sudo("systemctl reload app2") end
end)

-- helper3 builds the command line of step 3.
function M.helper3(x)
  local parts = {"step", "3", tostring(x)}
  return table.concat(parts, " ")
end

task("task3", "Task number 3", function(args)
  cd(env.app.root, function() run(M.helper3(args[1] or "all")) end)
  if files.exists("/etc/app3.conf") then sudo("systemctl reload app3") end
end)

-- helper4 builds the command line of step 4.
function M.helper4(x)
  local parts = {"step", "4", tostring(x)}
  return table.concat(parts, " ")
end

task("task4", "Task number 4", function(args)
  cd(env.app.root, function() run(M.helper4(args[1] or "all")) end)
  if files.exists("/etc/app4.conf") then sudo("systemctl reload app4") end
end)

-- helper5 builds the command line of step 5.
function M.helper5(x)
  local parts = {"step", "5", tostring(x)}
  return table.concat(parts, " ")
end

task("task5", "Task number 5", function(args)
  cd(env.app.root, function() run(M.helper5(args[1] or "all")) end)
  if files.exists("/etc/app5.conf") then sudo("systemctl reload app5") end
end)

-- helper6 builds the command line of step 6.
function M.helper6(x)
  local parts = {"step", "6", tostring(x)}
  return table.concat(parts, " ")
end

task("task6", "Task number 6", function(args)
  cd(env.app.root, function() run(M.helper6(args[1] or "all")) end)
  if files.exists("/etc/app6.conf") then sudo("systemctl reload app6") end
end)

-- helper7 builds the command line of step 7.
function M.helper7(x)
  local parts = {"step", "7", tostring(x)}
  return table.concat(parts, " ")
end

task("task7", "Task number 7", function(args)
  cd(env.app.root, function() run(M.helper7(args[1] or "all")) end)
  if files.exists("/etc/app7.conf") then sudo("systemctl reload app7") end
end)

-- helper8 builds the command line of step 8.
function M.helper8(x)
  local parts = {"step", "8", tostring(x)}
  return table.concat(parts, " ")
end

task("task8", "Task number 8", function(args)
  cd(env.app.root, function() run(M.helper8(args[1] or "all")) end)
  if files.exists("/etc/app8.conf") then sudo("systemctl reload app8") end
end)

-- helper9 builds the command line of step 9.
function M.helper9(x)
  local parts = {"step", "9", tostring(x)}
  return table.concat(parts, " ")
end

task("task9", "Task number 9", function(args)
  cd(env.app.root, function() run(M.helper9(args[1] or "all")) end)
  if files.exists("/etc/app9.conf") then sudo("systemctl reload app9") end
end)

-- helper10 builds the command line of step 10.
function M.helper10(x)
  local parts = {"step", "10", tostring(x)}
  return table.concat(parts, " ")
end

task("task10", "Task number 10", function(args)
  cd(env.app.root, function() run(M.helper10(args[1] or "all")) end)
  if files.exists("/etc/app10.conf") then sudo("systemctl reload app10") end
end)

-- helper11 builds the command line of step 11.
function M.helper11(x)
  local parts = {"step", "11", tostring(x)}
  return table.concat(parts, " ")
end

task("task11", "Task number 11", function(args)
  cd(env.app.root, function() run(M.helper11(args[1] or "all")) end)
  if files.exists("/etc/app11.conf") then sudo("systemctl reload app11") end
end)

-- helper12 builds the command line of step 12.
function M.helper12(x)
  local parts = {"step", "12", tostring(x)}
  return table.concat(parts, " ")
end

task("task12", "Task number 12", function(args)
  cd(env.app.root, function() run(M.helper12(args[1] or "all")) end)
  if files.exists("/etc/app12.conf") then sudo("systemctl reload app12") end
end)

-- helper13 builds the command line of step 13.
function M.helper13(x)
  local parts = {"step", "13", tostring(x)}
  return table.concat(parts, " ")
end

task("task13", "Task number 13", function(args)
  cd(env.app.root, function() run(M.helper13(args[1] or "all")) end)
  if files.exists("/etc/app13.conf") then sudo("systemctl reload app13") end
end)

-- helper14 builds the command line of step 14.
function M.helper14(x)
  local parts = {"step", "14", tostring(x)}
  return table.concat(parts, " ")
end

task("task14", "Task number 14", function(args)
  cd(env.app.root, function() run(M.helper14(args[1] or "all")) end)
  if files.exists("/etc/app14.conf") then sudo("systemctl reload app14") end
end)

-- helper15 builds the command line of step 15.
function M.helper15(x)
  local parts = {"step", "15", tostring(x)}
  return table.concat(parts, " ")
end

task("task15", "Task number 15", function(args)
  cd(env.app.root, function() run(M.helper15(args[1] or "all")) end)
  if files.exists("/etc/app15.conf") then sudo("systemctl reload app15") end
end)

-- helper16 builds the command line of step 16.
function M.helper16(x)
  local parts = {"step", "16", tostring(x)}
  return table.concat(parts, " ")
end

task("task16", "Task number 16", function(args)
  cd(env.app.root, function() run(M.helper16(args[1] or "all")) end)
  if files.exists("/etc/app16.conf") then sudo("systemctl reload app16") end
end)
handler("reload app", function() sudo("systemctl reload app") end)

task("noop", "Does nothing: the state is the cost", function() end)
