-- The seed blog's Fabric recipes ("Remote Systems Administration with
-- Fabric"), as a gofab fabfile.
--
--   gofab -f fabfiles/fabfile.lua -H local lsb_release
--   gofab -f fabfiles/fabfile.lua -H web1,web2 databases

task("lsb_release", "Show the distribution of every host", function()
  run("lsb_release -a")
end)

task("databases", {doc = "List the databases on every database server"}, function()
  -- Hosts without PostgreSQL only warn: the run goes on elsewhere.
  warn_only(function()
    run([[psql -c "select datname from pg_database;"]])
  end)
end)

task("uptime", "Load and uptime of every host", function()
  local r = run("uptime", {quiet = true})
  puts(tostring(r))
end)
