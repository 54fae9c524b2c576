-- HTTP basic auth in front of an nginx site, its user and password in a
-- SOPS file kept in git (secrets/site.yaml, encrypted to the keys that
-- .sops.yaml lists: here gofab test's public test key, so the example
-- runs anywhere; list your team's age or SSH keys instead and run
-- gofab secrets updatekeys). The password reaches the host only on a
-- command's input and inside a file written 0640 over SFTP; every output
-- gofab writes shows it, and its hash, as ***.
--
--   gofab secrets edit fabfiles/secrets/site.yaml        # change them
--   gofab -f fabfiles/fabfile.lua -H web1 basic_auth.protect:port=8090
--   curl -u admin:PASSWORD http://web1:8090/
local cuisine = require("cuisine")
local files = require("files")
local secrets = require("secrets")

local M = {}

M.secrets_file = "secrets/site.yaml"
M.htpasswd = "/etc/nginx/gofab-basic-auth.htpasswd"
M.root = "/var/www/basic-auth"

handler("basic_auth: reload nginx", function()
  sudo("nginx -t")
  cuisine.service_reload("nginx")
end)

-- hash returns password's apr1 hash, made on the host from the command's
-- input (never its command line); with the salt of the hash already
-- there, the same password gives the same line, so a second run changes
-- nothing.
local function hash(password, salt)
  local cmd = {"openssl", "passwd", "-apr1"}
  if salt then
    cmd[#cmd + 1] = "-salt"
    cmd[#cmd + 1] = salt
  end
  cmd[#cmd + 1] = "-stdin"
  local h = run(cmd, {stdin = password .. "\n", quiet = true}).stdout:gsub("%s+$", "")
  return secrets.hide(h)
end

task("protect", "Serve a page behind HTTP basic auth, user and password from secrets/site.yaml: port=8090", function(args)
  local port = args.port or "8090"
  local s = secrets.load(M.secrets_file) -- decrypted once per run, on first read
  cuisine.package_ensure({"nginx", "openssl"})
  local current = files.exists(M.htpasswd, {use_sudo = true}) and files.read(M.htpasswd, {use_sudo = true}) or ""
  local salt = current:match("^" .. s.user .. ":%$apr1%$([^$]+)%$")
  if files.write(M.htpasswd, s.user .. ":" .. hash(s.password, salt) .. "\n",
      {use_sudo = true, mode = "0640", owner = "root", group = "www-data"}) then
    notify("basic_auth: reload nginx")
  end
  cuisine.dir_ensure(M.root, {recursive = true, mode = "0755", use_sudo = true})
  files.write(M.root .. "/index.html", "<h1>behind basic auth</h1>\n", {use_sudo = true, mode = "0644"})
  local site = "/etc/nginx/sites-available/basic-auth"
  if files.upload_template("templates/basic-auth.conf", site, {port = port, root = M.root, htpasswd = M.htpasswd},
      {use_sudo = true, mode = "0644", backup = false}) then
    notify("basic_auth: reload nginx")
  end
  if cuisine.file_link(site, "/etc/nginx/sites-enabled/basic-auth", {use_sudo = true}) then
    notify("basic_auth: reload nginx")
  end
  cuisine.service_ensure("nginx")
end)

return M
