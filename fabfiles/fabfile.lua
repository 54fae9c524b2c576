-- The seed blog's recipes as one fabfile: each post is a module below,
-- and its tasks are named after it (webapps.deploy, logrotate.force, …).
--
--   gofab -f fabfiles/fabfile.lua -l
--   gofab -f fabfiles/fabfile.lua -H local fabric.lsb_release
--   gofab test fabfiles          # the recipes' unit tests, on fake hosts
require("fabric")
require("webapps")
