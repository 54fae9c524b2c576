-- The seed post "Streaming PHP Output with FPM and NGINX": a slow report
-- that shows its lines as they are made instead of after 45 seconds. PHP
-- and nginx both buffer by default; three layers must let go:
--   * PHP code: ob_implicit_flush() (flush after every output)
--   * PHP ini: output_buffering = Off, implicit_flush = On
--   * nginx: fastcgi_keep_conn on, fastcgi_buffering off, gzip off, and
--     for HTTPS ssl_buffer_size 1k (16k by default: it holds the lines)
-- A /control/ location serves the same report with PHP's and nginx's
-- buffering left on, to show the difference. php-fpm keeps a PHP_VALUE
-- in the worker that got it, so the streaming location passes its own
-- (else a worker that served the control buffers what it serves next).
--
--   gofab -f fabfiles/fabfile.lua -H web1 php_streaming.deploy:http=8081,https=8443
--   curl -N http://web1:8081/report.php        # a line a second
local cuisine = require("cuisine")
local files = require("files")

local M = {}

M.root = "/var/www/php-streaming"

handler("php_streaming: reload nginx", function()
  sudo("nginx -t")
  cuisine.service_reload("nginx")
end)

handler("php_streaming: restart php-fpm", function()
  cuisine.service_restart(M.fpm_service())
end)

-- php_version is the PHP version the host's php-fpm package installed.
function M.php_version()
  local r = hide("running", "stdout", function() return run("ls /etc/php") end)
  local v = r.stdout:match("(%d+%.%d+)")
  if not v then abort("php_streaming: no PHP version under /etc/php") end
  return v
end

function M.fpm_service() return "php" .. M.php_version() .. "-fpm" end

-- report prints a line a second for n seconds (default 10).
local report = [[<?php
ob_implicit_flush(true);
$n = isset($_GET['n']) ? max(1, min(60, (int)$_GET['n'])) : 10;
header('Content-Type: text/plain');
for ($i = 1; $i <= $n; $i++) {
    echo "line $i of $n at " . date('H:i:s') . "\n";
    flush();
    sleep(1);
}
]]

-- control is the report written without flushing.
local control = [[<?php
$n = isset($_GET['n']) ? max(1, min(60, (int)$_GET['n'])) : 10;
header('Content-Type: text/plain');
for ($i = 1; $i <= $n; $i++) {
    echo "line $i of $n at " . date('H:i:s') . "\n";
    sleep(1);
}
]]

task("deploy", "Install PHP-FPM and nginx and serve a streaming report: http=8081 https=8443", function(args)
  local http, https = args.http or "8081", args.https or "8443"
  cuisine.package_ensure({"nginx", "php-fpm", "openssl"})
  local v = M.php_version()
  if files.write("/etc/php/" .. v .. "/fpm/conf.d/99-streaming.ini",
      "; Written by gofab (fabfiles/php_streaming.lua): stream output.\noutput_buffering = Off\nimplicit_flush = On\nzlib.output_compression = Off\n",
      {use_sudo = true, mode = "0644"}) then
    notify("php_streaming: restart php-fpm")
  end
  cuisine.dir_ensure(M.root .. "/control", {recursive = true, mode = "0755", use_sudo = true})
  files.write(M.root .. "/report.php", report, {use_sudo = true, mode = "0644"})
  files.write(M.root .. "/control/report.php", control, {use_sudo = true, mode = "0644"})
  -- A self-signed certificate, made once.
  local cert, key = "/etc/ssl/certs/php-streaming.pem", "/etc/ssl/private/php-streaming.key"
  if not files.exists(key, {use_sudo = true}) then
    hide("stderr", function() -- openssl's progress dots
      sudo({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
        "-subj", "/CN=" .. env.host, "-keyout", key, "-out", cert})
    end)
    sudo({"chmod", "600", key})
    notify("php_streaming: reload nginx")
  end
  local site = "/etc/nginx/sites-available/php-streaming"
  if files.upload_template("templates/php-streaming.conf", site,
      {http = http, https = https, root = M.root, cert = cert, key = key, socket = "/run/php/php" .. v .. "-fpm.sock"},
      {use_sudo = true, mode = "0644", backup = false}) then
    notify("php_streaming: reload nginx")
  end
  if cuisine.file_link(site, "/etc/nginx/sites-enabled/php-streaming", {use_sudo = true}) then
    notify("php_streaming: reload nginx")
  end
  cuisine.service_ensure(M.fpm_service())
  cuisine.service_ensure("nginx")
end)

return M
