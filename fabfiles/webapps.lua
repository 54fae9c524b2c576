-- Python web apps behind nginx and the uWSGI emperor: the seed post
-- "Nginx and UWSGI on Ubuntu" as a recipe that does the whole job on a
-- Debian host: packages, the apps, one vassal per app (python3 plugin),
-- one nginx site with a location per app, services started, and reloads
-- only when something changed.
--
--   gofab -f fabfiles/fabfile.lua -H web1 webapps.deploy:port=8080
--   curl http://web1:8080/app1
local cuisine = require("cuisine")
local files = require("files")

local M = {}

-- The apps: each is served at /<name> by its own vassal.
M.apps = {
  {name = "app1", processes = 2, body = "Hello World, I am app1"},
  {name = "app2", processes = 2, body = "I, however, am app2."},
}

-- Where the apps' code lives.
M.root = "/srv/webapps"

-- Where the vassals' sockets live. Not under /run: /run is a tmpfs that
-- is emptied at every boot, so a socket directory made there by hand (the
-- post's first version used /run/uwsgi) is gone after a reboot and the
-- vassals cannot start. /var/lib survives reboots.
M.sockets = "/var/lib/webapps"

handler("webapps: reload nginx", function()
  sudo("nginx -t")
  cuisine.service_reload("nginx")
end)

-- app_source is a WSGI app answering with its body on every path.
local function app_source(app)
  return "def application(env, start_response):\n" ..
         "    start_response('200 OK', [('Content-Type', 'text/plain')])\n" ..
         "    return [" .. string.format("%q", app.body .. "\n") .. ".encode()]\n"
end

task("deploy", "Install nginx and the uWSGI emperor, deploy the apps and serve them: port=8080 site=site", function(args)
  local port = args.port or env.webapps_port or "8080"
  local site = args.site or "site"
  cuisine.package_ensure({"nginx", "uwsgi-emperor", "uwsgi-plugin-python3"})
  cuisine.dir_ensure(M.sockets, {owner = "www-data", group = "www-data", mode = "0755", use_sudo = true})
  for _, app in ipairs(M.apps) do
    local dir = M.root .. "/" .. app.name
    cuisine.dir_ensure(dir, {mode = "0755", recursive = true, use_sudo = true})
    local code = files.write(dir .. "/app.py", app_source(app), {use_sudo = true, mode = "0644"})
    local vassal = "/etc/uwsgi-emperor/vassals/" .. app.name .. ".ini"
    local ini = files.upload_template("templates/vassal.ini", vassal,
      {name = app.name, path = dir, processes = app.processes, sockets = M.sockets},
      {use_sudo = true, mode = "0644", backup = false})
    -- The emperor restarts a vassal when its ini changes; new code needs
    -- the same nudge.
    if code and not ini then
      sudo({"touch", vassal})
    end
  end
  local available = "/etc/nginx/sites-available/" .. site
  if files.upload_template("templates/nginx-site.conf", available,
      {port = port, apps = M.apps, sockets = M.sockets}, {use_sudo = true, mode = "0644", backup = false}) then
    notify("webapps: reload nginx")
  end
  if cuisine.file_link(available, "/etc/nginx/sites-enabled/" .. site, {use_sudo = true}) then
    notify("webapps: reload nginx")
  end
  -- Debian 12's SysV script for uwsgi-emperor is doubly broken without
  -- systemd: executed (as `service` does), its kFreeBSD shim re-sources
  -- init-d-script under the wrong name and exits 0 having done nothing,
  -- status included; and the emperor leaves a world-writable pid file
  -- behind that start-stop-daemon then refuses. So a stale pid file goes
  -- and the script runs through sh. service_ensure then checks that the
  -- emperor really runs (its pid file names a live process).
  if not cuisine.service_is_active("uwsgi-emperor") then
    sudo("rm -f /run/uwsgi-emperor.pid")
    if not files.is_dir("/run/systemd/system") then
      sudo("sh /etc/init.d/uwsgi-emperor start")
    end
  end
  cuisine.service_ensure("uwsgi-emperor")
  cuisine.service_ensure("nginx")
end)

return M
