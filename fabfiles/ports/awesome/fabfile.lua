-- A port of a real Fabric 1 fabfile: the deployment toolkit of Michael Liao's
-- "awesome-python3-webapp" tutorial (github.com/michaelliao/awesome-python3-webapp,
-- fabfile.py), which thousands of readers copied for their first deploy. The
-- tasks and their steps are the original's; the code is gofab's.
--
--   build     pack www/ into dist/dist-awesome.tar.gz, on this machine
--   deploy    upload it, unpack it into a new /srv/awesome/www-<time>, switch the
--             www symlink, restart the app and reload nginx (warnings only)
--   rollback  list the releases, show which is current and which is the one
--             before, ask, and switch www back to it
--   backup    dump the database on the server and fetch it into backup/
--
--   cd fabfiles/ports/awesome        # run from the project, as fab was
--   gofab -H web1 build deploy
--   gofab -H web1 rollback            # asks; --yes (or --set rollback_ok=yes) answers
--
-- What a Fabric user changes when porting it (see docs/fabric.md):
-- * env.user and env.hosts stay env.* (hosts also come from -H or an inventory);
--   env.sudo_user = 'root' goes (root is sudo()'s default; gofab refuses
--   env.sudo_user and says to pass {user = ...} to sudo()); `with cd(d):` is cd(d, fn); `with lcd(...)` is lcd(...);
--   `with settings(warn_only=True)` is with_settings({warn_only = true}, fn);
--   raw_input('continue? y/N') is confirm("continue?").
-- * The original dumps MySQL with the password on the command line; this port
--   dumps PostgreSQL as its owner (`sudo -u postgres pg_dump` inside run(), whose
--   sudo prompt gofab answers), since the test servers run PostgreSQL. The
--   original's restore2local (a local MySQL restore driven by typed passwords)
--   is not ported.
-- * The release name is the original's www-<yy-mm-dd_HH.MM.SS>; --set release=NAME
--   names one (two deploys in the same second would collide otherwise).

env.db_name = env.db_name or "awesome"

local TAR_FILE = "dist-awesome.tar.gz"
local REMOTE_TMP_TAR = "/tmp/" .. TAR_FILE
local REMOTE_BASE_DIR = env.base_dir or "/srv/awesome"

local function now()
  return os.date("%y-%m-%d_%H.%M.%S")
end

-- restart is the original's warn_only block: a missing supervisor or a
-- stopped nginx is a warning, not a failed deploy.
local function restart()
  with_settings({warn_only = true}, function()
    sudo("supervisorctl stop awesome")
    sudo("supervisorctl start awesome")
    sudo("/etc/init.d/nginx reload")
  end)
end

task("build", {runs_once = true, doc = "Build the dist package (on this machine)"}, function()
  local includes = {"static", "templates", "transwarp", "favicon.ico", "*.py"}
  local excludes = {"test", ".*", "*.pyc", "*.pyo"}
  run_local("rm -f dist/" .. TAR_FILE)
  run_local("mkdir -p dist")
  lcd("www", function()
    local cmd = {"tar", "--dereference", "-czvf", "../dist/" .. TAR_FILE}
    for _, ex in ipairs(excludes) do cmd[#cmd + 1] = "--exclude='" .. ex .. "'" end
    for _, inc in ipairs(includes) do cmd[#cmd + 1] = inc end
    run_local(table.concat(cmd, " "))
  end)
end)

task("deploy", "Upload the dist package into a new release and switch www to it", function()
  local newdir = env.release or ("www-" .. now())
  run("rm -f " .. REMOTE_TMP_TAR)
  put("dist/" .. TAR_FILE, REMOTE_TMP_TAR)
  cd(REMOTE_BASE_DIR, function()
    sudo("mkdir " .. newdir)
  end)
  cd(REMOTE_BASE_DIR .. "/" .. newdir, function()
    sudo("tar -xzvf " .. REMOTE_TMP_TAR)
  end)
  cd(REMOTE_BASE_DIR, function()
    sudo("rm -f www")
    sudo("ln -s " .. newdir .. " www")
    sudo("chown www-data:www-data www")
    sudo("chown -R www-data:www-data " .. newdir)
  end)
  restart()
end)

task("rollback", "Switch www back to the release before the current one (asks first)", function()
  cd(REMOTE_BASE_DIR, function()
    local releases = {}
    for line in run("ls -p -1").stdout:gmatch("[^\r\n]+") do
      if line:match("^www%-.*/$") then releases[#releases + 1] = line:sub(1, -2) end
    end
    table.sort(releases, function(a, b) return a > b end)
    local current = run("ls -l www").stdout:match(" %-> (%S+)")
    if not current then abort("'www' is not a symbolic link") end
    puts("Found current symbol link points to: " .. current)
    local index
    for i, r in ipairs(releases) do
      if r == current then index = i end
    end
    if not index then abort("the symbolic link www points to no release: " .. current) end
    local old = releases[index + 1]
    if not old then abort("already the oldest version") end
    puts(string.rep("=", 50))
    for _, r in ipairs(releases) do
      if r == current then
        puts("      Current ---> " .. r)
      elseif r == old then
        puts("  Rollback to ---> " .. r)
      else
        puts("                   " .. r)
      end
    end
    puts(string.rep("=", 50))
    if not confirm("continue?", {default = false, key = "rollback_ok"}) then
      puts("Rollback cancelled.")
      return
    end
    puts("Start rollback...")
    sudo("rm -f www")
    sudo("ln -s " .. old .. " www")
    sudo("chown www-data:www-data www")
    restart()
    puts("ROLLBACKED OK.")
  end)
end)

task("backup", "Dump the database on the server and fetch it into backup/", function()
  local f = "backup-awesome-" .. now() .. ".sql"
  cd("/tmp", function()
    run("sudo -u postgres pg_dump --no-owner " .. env.db_name .. " > " .. f)
    run("tar -czvf " .. f .. ".tar.gz " .. f)
    get(f .. ".tar.gz", "backup/")
    run("rm -f " .. f)
    run("rm -f " .. f .. ".tar.gz")
  end)
end)
