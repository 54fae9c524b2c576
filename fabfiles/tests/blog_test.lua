-- Unit tests for blog.lua: gofab test fabfiles
local t = require("testing")

-- built puts a built site where build.sh would write it (run_local does
-- not run here: it is recorded on the fake local host, where the build
-- succeeds).
local function built(h, pages)
  local files = {}
  for name, body in pairs(pages) do files["blog/build/" .. name] = body end
  h:localhost():files(files)
  h:localhost():respond("^sh build.sh posts build$", "")
end

t.case("deploy builds once locally and pushes the site", {hosts = {"web1", "web2"}}, function(a, b)
  built(a, {["index.html"] = "<h1>Blog</h1>\n", ["fabric.html"] = "<h1>Fabric</h1>\n"})
  local r = a:run_task("blog.deploy", {port = "18082"})
  a:assert_ran_local("^sh build.sh posts build$")
  t.equal(#a:localhost():commands(true), 1, "the build ran once for both hosts")
  for _, h in ipairs({a, b}) do
    h:assert_file("/var/www/blog/index.html", {equals = "<h1>Blog</h1>\n", owner = "root"})
    h:assert_file("/etc/nginx/sites-available/blog", {contains = "listen 18082;"})
    h:assert_file("/etc/nginx/sites-enabled/blog", {link = "/etc/nginx/sites-available/blog"})
  end
  t.equal(r.hosts.web2.value, {files = 2, removed = 0})
end)

t.case("a second deploy sends nothing; a changed post moves alone", function(h)
  built(h, {["index.html"] = "<h1>Blog</h1>\n", ["old.html"] = "old\n"})
  h:run_task("blog.deploy")
  local again = h:run_task("blog.deploy")
  t.equal(again.value, {files = 0, removed = 0})
  h:assert_output("site unchanged")
  h:assert_not_ran("reload")
  h:localhost():files({["blog/build/index.html"] = "<h1>Blog</h1>\n<p>new</p>\n"})
  t.equal(h:run_task("blog.deploy").value, {files = 1, removed = 0})
  h:assert_file("/var/www/blog/index.html", {contains = "new"})
end)
