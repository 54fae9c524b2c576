-- Unit tests of the port on fake hosts: gofab test fabfiles/ports/awesome
local t = require("testing")

-- deployed gives the fake host two releases, the newer one current.
local function deployed(h)
  h:files({
    ["/srv/awesome/www-26-01-01_10.00.00/static/version.txt"] = "1\n",
    ["/srv/awesome/www-26-01-02_10.00.00/static/version.txt"] = "2\n",
  })
  h:respond("^ls %-p %-1$", "www\nwww-26-01-01_10.00.00/\nwww-26-01-02_10.00.00/\n")
  h:respond("^ls %-l www$", "lrwxrwxrwx 1 root root 21 Jan  2 10:00 www -> www-26-01-02_10.00.00\n")
end

t.case("deploy unpacks the package into a new release behind www", function(h)
  h:files({["/srv/awesome/.keep"] = ""})
  h:localhost():files({["dist/dist-awesome.tar.gz"] = "tarball"})
  h:run_task("deploy", {}, {set = {release = "www-26-01-03_10.00.00"}})
  h:assert_file("/tmp/dist-awesome.tar.gz", {equals = "tarball"})
  h:assert_ran_sudo("^mkdir www%-26%-01%-03_10%.00%.00$")
  h:assert_ran_sudo("tar %-xzvf /tmp/dist%-awesome%.tar%.gz")
  h:assert_file("/srv/awesome/www", {link = "www-26-01-03_10.00.00"})
  h:assert_ran_sudo("chown %-R www%-data:www%-data www%-26%-01%-03_10%.00%.00")
  h:assert_ran_sudo("supervisorctl start awesome")
end)

t.case("rollback asks, and a no changes nothing", function(h)
  deployed(h)
  h:run_task("rollback", {}, {set = {rollback_ok = "no"}})
  h:assert_output("  Rollback to %-%-%-> www%-26%-01%-01_10%.00%.00")
  h:assert_output("Rollback cancelled.")
  h:assert_not_ran("ln %-s")
end)

t.case("rollback switches www to the release before", function(h)
  deployed(h)
  h:run_task("rollback", {}, {set = {rollback_ok = "yes"}})
  h:assert_ran_sudo("^ln %-s www%-26%-01%-01_10%.00%.00 www$")
  h:assert_output("ROLLBACKED OK.")
end)

-- The fake host does not emulate tar, so the archive get() fetches is not
-- there: the case checks the commands (tests/ports_test.go fetches a real
-- dump from a real PostgreSQL).
t.case("backup dumps as postgres inside run(), then fetches the archive", function(h)
  local r = h:run_task("backup", {}, {allow_failure = true})
  t.equal(r.ok, false)
  h:assert_ran("^sudo %-u postgres pg_dump %-%-no%-owner awesome > backup%-awesome%-.*%.sql$")
  h:assert_ran("tar %-czvf backup%-awesome%-")
  h:assert_output("get: /tmp/backup%-awesome%-[%d_.-]+%.sql%.tar%.gz %-> backup/")
end)
