-- Unit tests for webapps.lua: run with "gofab test fabfiles".
local t = require("testing")

t.case("deploy reloads nginx only when the site changed", function(h)
  h:files({["/etc/nginx/sites-available/site"] = "old"})      -- the fake host's filesystem
  h:respond("nginx -t", {code = 0})                              -- scripted command results
  h:respond("^systemctl is%-active nginx$", {stdout = "active"}) -- patterns allowed
  h:run_task("webapps.deploy", {port = "8088"})                  -- runs the real task on the fake host
  h:assert_ran("nginx -t")
  h:assert_ran_sudo("systemctl reload nginx")
  h:assert_file("/etc/nginx/sites-available/site", {contains = "listen 8088", mode = "0644"})
  h:run_task("webapps.deploy", {port = "8088"})
  h:assert_not_ran("systemctl reload nginx")                     -- second run: nothing changed
end)
