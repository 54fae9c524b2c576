-- Unit tests for basic_auth.lua: gofab test fabfiles. secrets/site.yaml
-- is encrypted to gofab test's public test key, which gofab test uses.
local t = require("testing")

local htpasswd = "/etc/nginx/gofab-basic-auth.htpasswd"

t.case("protect writes the hash 0640 for nginx and never puts the password on a command line", function(h)
  h:respond("^openssl passwd %-apr1 %-stdin$", {stdout = "$apr1$s4lt$h4sh\n"})
  h:run_task("basic_auth.protect", {port = "18090"})
  h:assert_file(htpasswd, {equals = "admin:$apr1$s4lt$h4sh\n", mode = "0640", owner = "root", group = "www-data"})
  h:assert_file("/etc/nginx/sites-available/basic-auth", {contains = "auth_basic_user_file " .. htpasswd .. ";"})
  h:assert_file("/etc/nginx/sites-available/basic-auth", {contains = "listen 18090;"})
  h:assert_file("/etc/nginx/sites-enabled/basic-auth", {link = "/etc/nginx/sites-available/basic-auth"})
  h:assert_no_secret()
  t.equal(h:services(), {"nginx"})
end)

t.case("a second run reuses the salt and changes nothing", function(h)
  h:respond("^openssl passwd %-apr1 %-stdin$", {stdout = "$apr1$s4lt$h4sh\n"})
  h:respond("^openssl passwd %-apr1 %-salt s4lt %-stdin$", {stdout = "$apr1$s4lt$h4sh\n"})
  h:run_task("basic_auth.protect")
  h:run_task("basic_auth.protect")
  h:assert_file(htpasswd, {equals = "admin:$apr1$s4lt$h4sh\n"})
  h:assert_not_ran("reload")
  h:assert_no_secret(true)
end)
