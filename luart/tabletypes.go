package luart

// The option and result tables this package's functions take and give,
// declared once: calls are checked and LuaLS classes written from these.

var hostSpecType = &TableType{Name: "HostSpec", Fields: []Field{
	{Name: "groups", Type: "string[]", Doc: "groups the host is in", Optional: true},
	{Name: "vars", Type: "table<string, any>", Doc: "the host's own vars (they win over its groups')", Optional: true},
	{Name: "user", Type: "string", Doc: "login user", Optional: true},
	{Name: "port", Type: "integer", Doc: "SSH port", Optional: true},
	{Name: "identity", Type: "string", Doc: "private key file", Optional: true},
	{Name: "gateway", Type: "string", Doc: "jump host (ProxyJump syntax)", Optional: true},
	{Name: "address", Type: "string", Doc: "address to connect to when the name is not one", Optional: true},
	{Name: "forward_agent", Type: "boolean", Doc: "forward your ssh-agent to this host", Optional: true},
}}

var groupSpecType = &TableType{Name: "GroupSpec", Fields: []Field{
	{Name: "hosts", Type: "string[]", Doc: "hosts in the group (ranges such as web[01:20] allowed)", Optional: true},
	{Name: "children", Type: "string[]", Doc: "groups whose hosts are in this group too", Optional: true},
	{Name: "vars", Type: "table<string, any>", Doc: "vars of every host of the group", Optional: true},
}}

var hostInfoType = &TableType{Name: "HostInfo", Fields: []Field{
	{Name: "name", Type: "string", Doc: "the host's inventory name (or host string)"},
	{Name: "groups", Type: "string[]", Doc: "every group the host is in, parents first"},
	{Name: "vars", Type: "table<string, any>", Doc: "merged vars: all, parent groups, child groups, the host, --set"},
}}

var taskOptionsType = &TableType{Name: "TaskOptions", Fields: []Field{
	{Name: "doc", Type: "string", Optional: true},
	{Name: "hosts", Type: "string[]", Optional: true},
	{Name: "roles", Type: "string[]", Optional: true},
	{Name: "exclude_hosts", Type: "string[]", Optional: true},
	{Name: "on", Type: "string", Doc: "host pattern: groups, globs, a:b union, a:&b intersection, a:!b exclusion, @file, ranges", Optional: true},
	{Name: "alias", Type: "string", Optional: true},
	{Name: "aliases", Type: "string[]", Optional: true},
	{Name: "default", Type: "boolean", Optional: true},
	{Name: "runs_once", Type: "boolean", Doc: "run once per invocation whatever the hosts; later runs get its value", Optional: true},
	{Name: "shard", Type: "integer", Doc: "under --shard i/N, run only in shard i (0 is the first): a runs_once report or notification made once for the whole fleet", Optional: true},
	{Name: "serial", Type: "boolean", Doc: "one host at a time", Optional: true},
	{Name: "parallel", Type: "boolean", Doc: "all hosts at once, whatever --serial or -z say", Optional: true},
	{Name: "pool_size", Type: "integer", Doc: "at most this many hosts at once", Optional: true},
	{Name: "batch", Type: "integer|string|(integer|string)[]", Doc: "rolling batches: N, \"25%\", or a list such as {1, \"10%\", \"100%\"}", Optional: true},
	{Name: "max_fail", Type: "integer|string", Doc: "failures (N or \"P%\") tolerated before gofab stops starting hosts and cancels the rest", Optional: true},
	{Name: "fail_fast", Type: "boolean", Doc: "stop at the first failure (max_fail 0)", Optional: true},
	{Name: "private", Type: "boolean", Doc: "a helper: callable (call, tasks.name, execute) but not listed by -l", Optional: true},
}}

var executeOptionsType = &TableType{Name: "ExecuteOptions", Fields: []Field{
	{Name: "hosts", Type: "string[]", Doc: "host strings or patterns (instead of the task's own)", Optional: true},
	{Name: "roles", Type: "string[]", Doc: "roles or groups whose hosts it runs on", Optional: true},
	{Name: "exclude_hosts", Type: "string[]", Doc: "hosts left out", Optional: true},
	{Name: "on", Type: "string", Doc: "a host pattern, as -H takes", Optional: true},
	{Name: "warn_only", Type: "boolean", Doc: "return every host's result even when some failed, instead of failing the caller", Optional: true},
}}
