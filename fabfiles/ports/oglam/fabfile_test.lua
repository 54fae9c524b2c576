-- Unit tests of the port on fake hosts: gofab test fabfiles/ports/oglam
local t = require("testing")

local code = "/home/deploy/OpenGLAM/"

-- cloned gives the fake host the login user's checkout and virtualenv, as
-- clone_project and create_venv leave them.
local function cloned(h, more)
  local files = {
    [code] = {dir = true, owner = "deploy"},
    [code .. "conf"] = {dir = true, owner = "deploy"},
    [code .. "collected-static"] = {dir = true, owner = "deploy"},
    ["/home/deploy/.virtualenvs/oglam/bin/activate"] = {content = "", owner = "deploy"},
    ["/home/weboglam/oglam.pid"] = "4242\n",
  }
  for k, v in pairs(more or {}) do files[k] = v end
  h:files(files)
end

t.case("the web user and its database are made with sudo inside run()", function(h)
  h:run_task("create_webuser_and_db")
  h:assert_ran("^sudo adduser weboglam %-%-gecos '' %-%-disabled%-password$")
  h:assert_ran("^sudo %-iu postgres createuser weboglam %-S %-D %-R$")
  h:assert_ran("^sudo %-iu postgres createdb weboglam %-O weboglam$")
end)

t.case("a quick deploy skips install and migrations, then reloads the app", function(h)
  cloned(h)
  h:run_task("quickdeploy")
  h:assert_ran("git pull")
  h:assert_not_ran("pipenv install")
  h:assert_not_ran("migrate")
  h:assert_ran("collectstatic %-%-noinput")
  h:assert_ran("^sudo kill %-HUP `cat /home/weboglam/oglam%.pid`$")
end)

t.case("a full deploy without restart migrates and does not reload", function(h)
  cloned(h)
  h:run_task("deploy", {restart = "False"})
  h:assert_ran("pipenv install")
  h:assert_ran("python manage.py migrate %-%-noinput")
  h:assert_not_ran("kill %-HUP")
end)

t.case("nginx_setup renders the site and uncomments the hash bucket size", function(h)
  h:packages({"nginx"})
  cloned(h, {["/etc/nginx/nginx.conf"] = "http {\n\t# server_names_hash_bucket_size 64;\n}\n"})
  h:run_task("nginx_setup", {}, {set = {vhost = "oglam.test"}})
  h:assert_file(code .. "conf/nginx.conf", {contains = "alias " .. code .. "collected-static/;"})
  h:assert_file(code .. "conf/nginx.conf", {contains = "server_name oglam.test;"})
  h:assert_file("/etc/nginx/nginx.conf", {matches = "\n%s*server_names_hash_bucket_size 64;"})
  h:assert_ran("^sudo ln %-fs /etc/nginx/sites%-available/weboglam%.conf /etc/nginx/sites%-enabled/weboglam%.conf$")
  h:assert_ran("^sudo service nginx reload$")
end)

t.case("setup_postfix appends the TLS lines once", function(h)
  h:files({["/etc/postfix/main.cf"] = "smtpd_use_tls=yes\n"})
  h:run_task("setup_postfix")
  h:run_task("setup_postfix")
  local cf = h:read("/etc/postfix/main.cf") or ""
  t.equal(select(2, cf:gsub("smtpd_tls_security_level=may", "")), 1)
  h:assert_file("/etc/postfix/main.cf", {contains = "#smtpd_use_tls=yes"})
end)
