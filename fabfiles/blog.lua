-- The seed blog itself: "this blog is generated using Fabric". The site
-- is built once on this machine (run_local) from blog/posts, then pushed
-- to every web server's docroot with sync (only what changed moves,
-- removed posts are deleted there) and served by nginx.
--
--   gofab -f fabfiles/fabfile.lua -H web1,web2 blog.deploy:port=8082
--   curl http://web1:8082/
local cuisine = require("cuisine")
local files = require("files")

local M = {}

-- dir holds build.sh, posts/ and (once built) build/.
M.dir = env.blog_dir or (env.real_fabfile:match("^(.*)/[^/]*$") or ".") .. "/blog"

M.docroot = "/var/www/blog"

handler("blog: reload nginx", function()
  sudo("nginx -t")
  cuisine.service_reload("nginx")
end)

task("build", {runs_once = true, doc = "Build the site from blog/posts into blog/build, on this machine"}, function()
  lcd(M.dir, function()
    run_local("sh build.sh posts build")
  end)
end)

task("deploy", "Build the site once, then push it to the docroot nginx serves: port=8082", function(args)
  local port = args.port or "8082"
  execute("blog.build")
  cuisine.package_ensure("nginx")
  local changed, d = sync(M.dir .. "/build", M.docroot, {delete = true, use_sudo = true})
  if changed then
    puts(string.format("deployed %d files, removed %d", #d.files, #d.removed))
  else
    puts("site unchanged")
  end
  local site = "/etc/nginx/sites-available/blog"
  local conf = "# Written by gofab (fabfiles/blog.lua).\nserver {\n    listen " .. port ..
    ";\n    server_name _;\n    root " .. M.docroot .. ";\n    index index.html;\n}\n"
  if files.write(site, conf, {use_sudo = true, mode = "0644"}) then
    notify("blog: reload nginx")
  end
  if cuisine.file_link(site, "/etc/nginx/sites-enabled/blog", {use_sudo = true}) then
    notify("blog: reload nginx")
  end
  cuisine.service_ensure("nginx")
  return {files = #d.files, removed = #d.removed}
end)

return M
