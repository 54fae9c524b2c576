-- The seed blog's recipes as one fabfile: each post is a module below,
-- and its tasks are named after it (webapps.deploy, logrotate.force, …).
--
--   gofab -f fabfiles/fabfile.lua -l
--   gofab -f fabfiles/fabfile.lua -H local fabric.lsb_release
--   gofab test fabfiles          # the recipes' unit tests, on fake hosts
require("fabric")          -- lsb_release and databases on every server
require("logrotate")       -- rotate a verbose service's logs
require("webapps")         -- Python apps behind nginx and the uWSGI emperor
require("php_streaming")   -- PHP-FPM output streamed through nginx, HTTP and HTTPS
require("postfix_queue")   -- the deferred queue by domain and age, across hosts
require("blog")            -- a static blog built locally and deployed
require("basic_auth")      -- nginx basic auth, its password from an encrypted file in git
