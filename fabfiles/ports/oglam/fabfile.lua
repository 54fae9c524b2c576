-- A port of a real Fabric 1 fabfile: the deployment of OpenGLAM, a Django
-- site of the Israeli public-knowledge workshop (github.com/nonZero/OpenGLAM:
-- fabfile.py and fab_tools/server.py, project.py, db.py). The tasks and
-- their steps are the original's; the code is gofab's.
--
--   gofab -H web1 create_webuser_and_db clone_project project_mkdirs
--   gofab -H web1 create_local_settings nginx_setup
--   gofab -H web1 deploy               # git pull, pipenv, migrate, collectstatic
--   gofab -H web1 backup_db            # sudo -u postgres pg_dump | gzip, then get
--
-- What a Fabric user changes when porting it:
-- * `from fab_tools.server import *` and friends: one file here (or
--   require("server") with fab_tools/ on GOFAB_PATH).
-- * The original runs most privileged commands as run("sudo …"); gofab
--   answers sudo's password prompt inside run() as Fabric 1 did, so they
--   stay as they were, including `sudo -u postgres pg_dump … | gzip > f`.
-- * Tasks call tasks as Python functions (deploy(restart=False),
--   reload_app()): here tasks.deploy({restart = false}), tasks.reload_app().
-- * `with virtualenv(dir):` (a contextmanager over cd and prefix) is a Lua
--   function taking a function; upload_template(..., use_jinja=True) takes Go
--   templates ({{ .host }} for {{ host }}); uncomment/comment/append are the
--   files module's.
-- * env.user = "oglam" is the login user of the original's servers: here it
--   comes from -H user@host or ssh_config, and the paths follow it.
-- * prod() (env.hosts for production) becomes an inventory or -H.

local files = require("files")

env.project = env.project or "oglam"
env.gunicorn_port = env.gunicorn_port or "9099"
env.clone_url = env.clone_url or "git@github.com:nonZero/OpenGLAM.git"
env.webuser = env.webuser or "weboglam"
env.vhost = env.vhost or "oglam.example.org"
env.redirect_host = env.redirect_host or ("www." .. env.vhost)

local APT_PACKAGES = {
  "unattended-upgrades", "ntp", "fail2ban",
  "postfix", "opendkim", "opendkim-tools",
  "supervisor", "nginx", "git", "python", "virtualenvwrapper", "postgresql",
  "build-essential", "python-dev", "libpq-dev", "libjpeg-dev", "libjpeg8", "zlib1g-dev",
  "libfreetype6", "libfreetype6-dev", "libgmp3-dev", "htop",
  "rabbitmq-server", -- for offline tasks via celery
}

-- paths are the original's env.code_dir and friends, for the login user
-- of the host at hand (Fabric computed them from env.user at import).
local function paths()
  local home = "/home/" .. env.user
  local code = env.code_dir or (home .. "/OpenGLAM/")
  return {
    code = code,
    logs = code .. "logs/",
    venv = home .. "/.virtualenvs/" .. env.project,
    pidfile = "/home/" .. env.webuser .. "/" .. env.project .. ".pid",
    backups = home .. "/backups",
  }
end

-- virtualenv is the original's contextmanager: cd into dir with the
-- virtualenv activated.
local function virtualenv(dir, fn)
  cd(dir, function()
    prefix(". " .. paths().venv .. "/bin/activate", fn)
  end)
end

-- secret_key is Django's SECRET_KEY: 50 characters drawn, as the
-- original's random.choice did, but from the system's secure random source
-- (Lua's math.random is a fixed-seed generator).
local function secret_key()
  local chars = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
  local random = assert(io.open("/dev/urandom", "rb"))
  local bytes = random:read(50)
  random:close()
  local key = {}
  for i = 1, 50 do
    local n = bytes:byte(i) % #chars + 1
    key[i] = chars:sub(n, n)
  end
  return table.concat(key)
end

-- server.py

task("apt_upgrade", function()
  run("sudo apt-get update")
  run("sudo apt-get upgrade -y")
end)

task("apt_install", function()
  run("sudo apt-get install -y -q " .. table.concat(APT_PACKAGES, " "))
end)

task("create_webuser_and_db", "Create the web user, its PostgreSQL role and database", function()
  local w = env.webuser
  run("sudo adduser " .. w .. " --gecos '' --disabled-password")
  run("sudo -iu postgres createuser " .. w .. " -S -D -R")
  run("sudo -iu postgres createdb " .. w .. " -O " .. w)
  run("sudo -iu postgres psql -c \"alter user " .. w .. " with password '" .. w .. "';\"")
end)

task("nginx_setup", "Write the nginx site from conf/nginx.conf.template and reload nginx", function()
  local p = paths()
  local conf1 = "/etc/nginx/sites-available/" .. env.webuser .. ".conf"
  local conf2 = "/etc/nginx/sites-enabled/" .. env.webuser .. ".conf"
  cd(p.code, function()
    files.upload_template("conf/nginx.conf.template", p.code .. "conf/nginx.conf", {
      host = env.vhost, redirect_host = env.redirect_host, dir = p.code,
      port = env.gunicorn_port, listen = env.listen or "80",
    })
  end)
  files.uncomment("/etc/nginx/nginx.conf", [[server_names_hash_bucket_size\s+64]], {use_sudo = true})
  run("sudo rm -f /etc/nginx/sites-enabled/default")
  run("sudo ln -fs " .. p.code .. "conf/nginx.conf " .. conf1)
  run("sudo ln -fs " .. conf1 .. " " .. conf2)
  run("sudo nginx -t")
  run("sudo service nginx reload")
end)

task("gunicorn_setup", function()
  local p = paths()
  cd(p.code, function()
    files.upload_template("conf/server.sh.template", p.code .. "server.sh",
      {venv = p.venv, port = env.gunicorn_port, pidfile = p.pidfile}, {mode = "0777"})
  end)
end)

task("project_mkdirs", "Create the empty directories for logs and uploads", function()
  local p = paths()
  cd(p.code, function()
    run("mkdir -pv " .. p.logs)
    run("mkdir -pv uploads")
    run("sudo chown -v " .. env.webuser .. " uploads")
  end)
end)

task("hard_reload", function() run("sudo supervisorctl restart " .. env.webuser) end)

task("log", function(args)
  run("tail -n" .. (args.n or args[1] or "50") .. " " .. paths().logs .. "*")
end)

task("status", function() run("sudo supervisorctl status") end)

task("setup_postfix", "Let Postfix use TLS when it can", function()
  files.comment("/etc/postfix/main.cf", "^smtpd_use_tls=yes$", {use_sudo = true})
  files.append("/etc/postfix/main.cf", {
    "smtp_tls_security_level=may",
    "smtpd_tls_security_level=may",
  }, {use_sudo = true})
  sudo("service postfix restart")
end)

-- project.py

task("upgrade_pip", function()
  virtualenv(paths().code, function() run("pip install --upgrade pip pipenv", {pty = false}) end)
end)

task("git_log", function()
  virtualenv(paths().code, function() run("git log -n 1") end)
end)

task("reload_app", function()
  run("sudo kill -HUP `cat " .. paths().pidfile .. "`")
end)

task("deploy", "git pull, install, migrate, collect static files, reload: restart=, quick=", function(args)
  local restart = args.restart ~= false and args.restart ~= "False" and args.restart ~= "false"
  local quick = args.quick == true or args.quick == "True" or args.quick == "true"
  virtualenv(paths().code, function()
    run("git pull")
    if not quick then
      run("pipenv install", {pty = false})
      run("python manage.py migrate --noinput")
      run("python manage.py update_permissions")
    end
    run("python manage.py collectstatic --noinput")
    run("git log -n 1 --format=\"%ai %h\" > collected-static/version.txt")
    run("git log -n 1 > collected-static/version-full.txt")
  end)
  if restart then
    tasks.reload_app()
  end
end)

task("quickdeploy", function() tasks.deploy({restart = true, quick = true}) end)

task("clone_project", "Clone the project's repository", function()
  run("git clone " .. env.clone_url .. " " .. paths().code)
end)

task("create_venv", function()
  run("virtualenv -p python3.6 " .. paths().venv .. " --prompt='(" .. env.user .. ") '")
  tasks.upgrade_pip()
end)

task("create_local_settings", "Render the production settings with a new secret key", function()
  local p = paths()
  cd(p.code, function()
    files.upload_template("conf/prod_settings_template.py", p.code .. env.project .. "/local_settings.py", {
      webuser = env.webuser, host = env.vhost, secret_key = secret_key(),
    })
  end)
end)

task("m", "Run a manage.py command: m:params", function(args)
  virtualenv(paths().code, function() run("python manage.py " .. (args.params or args[1])) end)
end)

-- db.py

-- make_backup dumps the web user's database, compressed, into the backup
-- directory and returns its path.
local function make_backup()
  local p = paths()
  local filename = os.date(env.project .. "-" .. (env.instance or "prod") .. "-%Y-%m-%d-%H-%M.sql.gz")
  run("mkdir -p " .. p.backups)
  local full = p.backups .. "/" .. filename
  run("sudo -u postgres pg_dump " .. env.webuser .. " | gzip > " .. full)
  return full
end

task("backup_db", "Dump the database and download it (into HOST/PATH, Fabric's default)", function()
  get(make_backup())
end)

-- fabfile.py

task("initial_project_setup", function()
  tasks.create_webuser_and_db()
  tasks.clone_project()
  tasks.create_venv()
  tasks.project_setup()
end)

task("project_setup", function()
  tasks.project_mkdirs()
  tasks.create_local_settings()
  tasks.deploy({restart = false})
  tasks.gunicorn_setup()
end)
