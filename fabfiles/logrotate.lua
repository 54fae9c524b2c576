-- The seed post on logrotate: keep a verbose service's logs from filling
-- the disk. Parameters come as task arguments, or from env.logrotate.
--
--   gofab -f fabfiles/fabfile.lua -H app1 logrotate.configure:service=myservice,path=/var/log/myservice/*.log
--   gofab -f fabfiles/fabfile.lua -H app1 logrotate.configure:service=myservice,rotate=14,frequency=weekly,compress=no
--   gofab -f fabfiles/fabfile.lua -H app1 logrotate.force:service=myservice
local cuisine = require("cuisine")
local files = require("files")

local M = {}

-- settings merges the task's arguments over env.logrotate and defaults.
function M.settings(args)
  local conf = env.logrotate or {}
  local s = {
    service = args.service or conf.service,
    rotate = args.rotate or conf.rotate or "7",
    frequency = args.frequency or conf.frequency or "daily",
    compress = (args.compress or conf.compress or "yes") ~= "no",
  }
  if not s.service or not s.service:match("^[%w._-]+$") then
    abort("logrotate: give service=NAME (letters, digits, . _ -)")
  end
  s.path = args.path or conf.path or ("/var/log/" .. s.service .. "/*.log")
  if not ({daily = true, weekly = true, monthly = true, yearly = true})[s.frequency] then
    abort("logrotate: frequency must be daily, weekly, monthly or yearly, not " .. s.frequency)
  end
  if not tostring(s.rotate):match("^%d+$") then
    abort("logrotate: rotate must be a number, not " .. tostring(s.rotate))
  end
  return s
end

task("configure", "Install logrotate and write /etc/logrotate.d/<service>: service=, path=, rotate=7, frequency=daily, compress=yes", function(args)
  local s = M.settings(args)
  cuisine.package_ensure("logrotate")
  local conf = "/etc/logrotate.d/" .. s.service
  local changed = files.upload_template("templates/logrotate.conf", conf, s,
    {use_sudo = true, mode = "0644", owner = "root", group = "root", backup = false})
  puts((changed and "updated " or "unchanged ") .. conf)
  return changed
end)

task("force", "Rotate the service's logs now (logrotate -f), as when testing a new configuration", function(args)
  local s = M.settings(args)
  sudo({"logrotate", "-f", "/etc/logrotate.d/" .. s.service})
end)

return M
