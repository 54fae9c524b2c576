-- Serving Python apps with nginx and uwsgi-emperor, rotating their logs:
-- the seed posts "Nginx and UWSGI on Ubuntu" and "logrotate" as a recipe.
-- Every file is rendered from templates/ next to this fabfile and written
-- only when its content differs, so running a task twice changes nothing.
--
--   gofab -f fabfiles/webapp.lua -H web1 vassals nginx_site logrotate
--   gofab -f fabfiles/webapp.lua -H web1 --set etc=/tmp/etc vassals   # try it elsewhere
local files = require("files")

-- Configuration lands under env.etc (default /etc).
local function etc(sub) return (env.etc or "/etc") .. sub end

env.apps = {
  {name = "app1", path = "/srv/app1", processes = 2},
  {name = "app2", path = "/srv/app2", processes = 2},
}

-- report prints whether a file changed.
local function report(file, changed)
  puts((changed and "updated " or "unchanged ") .. file)
end

task("vassals", "Write one uwsgi-emperor vassal per app", function()
  sudo({"mkdir", "-p", etc("/uwsgi-emperor/vassals")})
  for _, app in ipairs(env.apps) do
    local ini = etc("/uwsgi-emperor/vassals/" .. app.name .. ".ini")
    report(ini, files.upload_template("templates/vassal.ini", ini, app, {use_sudo = true, mode = "0644", backup = false}))
  end
end)

task("nginx_site", "Write the nginx site that routes /<app> to each vassal, and enable it", function()
  sudo({"mkdir", "-p", etc("/nginx/sites-available"), etc("/nginx/sites-enabled")})
  local site = etc("/nginx/sites-available/mysite")
  report(site, files.upload_template("templates/nginx-site.conf", site,
    {server_name = env.host, apps = env.apps}, {use_sudo = true, mode = "0644"}))
  if not files.is_link(etc("/nginx/sites-enabled/mysite"), {use_sudo = true}) then
    sudo({"ln", "-sfn", site, etc("/nginx/sites-enabled/mysite")})
  end
end)

task("logrotate", "Rotate the apps' logs daily, keeping a week", function()
  sudo({"mkdir", "-p", etc("/logrotate.d")})
  local conf = etc("/logrotate.d/myservice")
  report(conf, files.upload_template("templates/logrotate.conf", conf,
    {logs = "/var/log/myservice/*.log", rotate = 7}, {use_sudo = true, mode = "0644", backup = false}))
end)
