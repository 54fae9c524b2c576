-- Unit tests for php_streaming.lua: gofab test fabfiles
local t = require("testing")

local key, cert = "/etc/ssl/private/php-streaming.key", "/etc/ssl/certs/php-streaming.pem"

local function php(h)
  h:respond("^ls /etc/php$", {stdout = "8.2\n"})
  h:respond("^openssl req ", {writes = {[key] = "KEY", [cert] = "CERT"}})
end

t.case("deploy configures all three layers and both protocols", function(h)
  php(h)
  h:run_task("php_streaming.deploy", {http = "18081", https = "18443"})
  h:assert_file("/etc/php/8.2/fpm/conf.d/99-streaming.ini", {contains = "output_buffering = Off\nimplicit_flush = On\n", owner = "root"})
  h:assert_file("/var/www/php-streaming/report.php", {contains = "ob_implicit_flush(true);"})
  h:assert_file("/var/www/php-streaming/control/report.php", {matches = "^<%?php\n%$n ="})
  local site = "/etc/nginx/sites-available/php-streaming"
  for _, line in ipairs({"listen 18081;", "listen 18443 ssl;", "ssl_buffer_size 1k;", "fastcgi_keep_conn on;",
                         "fastcgi_buffering off;", "gzip off;", "fastcgi_pass unix:/run/php/php8.2-fpm.sock;",
                         "PHP_VALUE \"output_buffering=0\nimplicit_flush=1\";"}) do
    h:assert_file(site, {contains = line})
  end
  h:assert_file("/etc/nginx/sites-enabled/php-streaming", {link = site})
  h:assert_ran_sudo("^openssl req %-x509 ")
  h:assert_ran_sudo("systemctl restart php8.2%-fpm")
  h:assert_ran_sudo("systemctl reload nginx")
  t.equal(h:services(), {"nginx", "php8.2-fpm"})
end)

t.case("a second deploy changes nothing and restarts nothing", function(h)
  php(h)
  h:run_task("php_streaming.deploy")
  h:assert_file(key, {mode = "0600", owner = "root"})
  h:run_task("php_streaming.deploy")
  h:assert_not_ran("openssl")
  h:assert_not_ran("restart")
  h:assert_not_ran("reload")
end)
