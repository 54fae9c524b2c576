-- Unit tests for fabric.lua: gofab test fabfiles
local t = require("testing")

local psql = [[psql %-XAtc "select datname from pg_database order by datname;"]]

t.case("lsb_release runs on every host", {hosts = {"web1", "web2"}}, function(a, b)
  a:respond("lsb_release -a", {stdout = "Distributor ID:\tDebian\n"})
  a:run_task("fabric.lsb_release")
  a:assert_ran("lsb_release -a")
  b:assert_ran("lsb_release -a")
  a:assert_output("%[web1%] out: Distributor ID:")
end)

t.case("databases lists each server's databases, others only warn", {hosts = {"db1", "web1"}}, function(db, web)
  db:respond(psql, {stdout = "postgres\ntemplate0\ntemplate1\n"})
  web:respond(psql, {code = 1, stderr = "sudo: unknown user postgres\n"})
  local r = db:run_task("fabric.databases")
  t.equal(r.hosts.db1.value, {"postgres", "template0", "template1"})
  t.equal(r.hosts.web1.value, nil)
  t.equal(r.hosts.web1.status, "ok")
  db:assert_ran_sudo("select datname", "postgres")
  db:assert_output("%[db1%] databases: postgres, template0, template1")
  db:assert_output("%[web1%] no PostgreSQL answering here")
end)
