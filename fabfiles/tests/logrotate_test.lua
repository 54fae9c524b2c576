-- Unit tests for logrotate.lua: gofab test fabfiles
local t = require("testing")

t.case("configure installs logrotate and writes the service's file once", function(h)
  local first = h:run_task("logrotate.configure", {service = "myservice", rotate = "14", frequency = "weekly"})
  t.equal(first.value, true)
  h:assert_ran_sudo("apt%-get .*install .*logrotate")
  h:assert_file("/etc/logrotate.d/myservice", {mode = "0644", owner = "root", group = "root",
    equals = "# Written by gofab (fabfiles/logrotate.lua).\n/var/log/myservice/*.log {\n    weekly\n    rotate 14\n" ..
             "    compress\n    delaycompress\n    missingok\n    notifempty\n}\n"})
  local second = h:run_task("logrotate.configure", {service = "myservice", rotate = "14", frequency = "weekly"})
  t.equal(second.value, false)
  h:assert_output("unchanged /etc/logrotate.d/myservice")
  h:assert_not_ran("apt%-get")
end)

t.case("compress=no and a path of its own", function(h)
  h:run_task("logrotate.configure", {service = "app", path = "/srv/app/logs/*.log", compress = "no"})
  h:assert_file("/etc/logrotate.d/app", {contains = "/srv/app/logs/*.log {\n    daily\n    rotate 7\n    missingok"})
end)

t.case("force rotates through sudo", function(h)
  h:run_task("logrotate.force", {service = "myservice"})
  h:assert_ran_sudo("^logrotate %-f /etc/logrotate.d/myservice$")
end)

t.case("bad parameters stop before touching the host", function(h)
  local r = h:run_task("logrotate.configure", {service = "my service"}, {allow_failure = true})
  assert(r.error:find("give service=NAME"), r.error)
  r = h:run_task("logrotate.configure", {service = "x", frequency = "hourly"}, {allow_failure = true})
  assert(r.error:find("frequency must be"), r.error)
  t.equal(#h:commands(true), 0)
end)
