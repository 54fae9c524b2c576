-- Unit tests for webapps.lua: gofab test fabfiles
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

t.case("a first deploy does the whole job", function(h)
  h:run_task("webapps.deploy")
  t.equal(h:packages(), {"nginx", "uwsgi-emperor", "uwsgi-plugin-python3"})
  t.equal(h:services(), {"nginx", "uwsgi-emperor"})
  h:assert_file("/etc/nginx/sites-enabled/site", {link = "/etc/nginx/sites-available/site"})
  h:assert_file("/etc/nginx/sites-available/site", {contains = "listen 8080;"})
  h:assert_file("/etc/nginx/sites-available/site", {contains = "location /app2 {\n        include uwsgi_params;\n        uwsgi_pass unix:/var/lib/webapps/app2.sock;"})
  h:assert_file("/var/lib/webapps", {dir = true, owner = "www-data"})
  for _, app in ipairs({"app1", "app2"}) do
    h:assert_file("/etc/uwsgi-emperor/vassals/" .. app .. ".ini", {contains = "plugins = python3", owner = "root", mode = "0644"})
    h:assert_file("/etc/uwsgi-emperor/vassals/" .. app .. ".ini", {contains = "socket = /var/lib/webapps/" .. app .. ".sock"})
    h:assert_file("/srv/webapps/" .. app .. "/app.py", {contains = "def application(env, start_response):"})
  end
  h:assert_not_ran("touch")
end)

t.case("new app code touches its vassal, nothing else", function(h)
  h:run_task("webapps.deploy")
  h:files({["/srv/webapps/app1/app.py"] = "old code"})
  h:run_task("webapps.deploy")
  h:assert_ran_sudo("^touch /etc/uwsgi%-emperor/vassals/app1.ini$")
  h:assert_not_ran("app2.ini")
  h:assert_not_ran("reload")
end)

t.case("check mode changes nothing", function(h)
  h:run_task("webapps.deploy", {}, {check = true})
  t.equal(h:packages(), {})
  h:assert_file("/etc/nginx", {absent = true})
  h:assert_output("would run: DEBIAN_FRONTEND=noninteractive apt%-get")
end)
