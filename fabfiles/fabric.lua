-- The seed post "Remote Systems Administration with Fabric": one-liners
-- run on every server at once.
--
--   gofab -f fabfiles/fabfile.lua -H web1,web2 fabric.lsb_release
--   gofab -f fabfiles/fabfile.lua -H db1,db2 fabric.databases
local M = {}

task("lsb_release", "Show the distribution of every host", function()
  run("lsb_release -a")
end)

-- databases returns the host's database names, or nil where PostgreSQL
-- does not answer.
task("databases", "List the databases of every host running PostgreSQL (the others only warn)", function()
  -- Hosts without PostgreSQL only warn: the run goes on elsewhere. psql
  -- runs as postgres (peer authentication), from a directory it may read.
  local r = warn_only(function()
    return hide("stdout", function()
      return cd("/", function()
        return sudo([[psql -XAtc "select datname from pg_database order by datname;"]], {user = "postgres"})
      end)
    end)
  end)
  if not r.ok then
    puts("no PostgreSQL answering here")
    return nil
  end
  local names = {}
  for name in r.stdout:gmatch("[^\n]+") do names[#names + 1] = name end
  puts("databases: " .. table.concat(names, ", "))
  return names
end)

task("uptime", "Load and uptime of every host", function()
  run("uptime")
end)

return M
