package ops

import "github.com/gofab/gofab/luart"

// The option and result tables this package's functions take and give,
// declared once: calls are checked and LuaLS classes written from these.

var resultType = &luart.TableType{Name: "Result", Fields: []luart.Field{
	{Name: "stdout", Type: "string", Doc: "everything the command printed on stdout"},
	{Name: "stderr", Type: "string", Doc: "everything it printed on stderr (empty with pty)"},
	{Name: "code", Type: "integer", Doc: "exit status (-1 when it timed out)"},
	{Name: "ok", Type: "boolean", Doc: "the exit status is in ok_codes"},
	{Name: "failed", Type: "boolean", Doc: "not ok"},
	{Name: "succeeded", Type: "boolean", Doc: "ok, under Fabric 1's name"},
	{Name: "timed_out", Type: "boolean", Doc: "the command hit its timeout (only seen under warn_only)"},
	{Name: "command", Type: "string", Doc: "the command as given"},
	{Name: "skipped", Type: "boolean", Doc: "the command was not run (--check)", Optional: true},
	{Name: "truncated", Type: "boolean", Doc: "output past --max-output (64 MiB) was streamed but not kept in stdout/stderr", Optional: true},
	{Name: "host", Type: "string", Doc: "the host it ran on"},
}}

var runOptionsType = &luart.TableType{Name: "RunOptions", Fields: []luart.Field{
	{Name: "warn_only", Type: "boolean", Doc: "return a failed Result instead of raising an error", Optional: true},
	{Name: "quiet", Type: "boolean", Doc: "hide all output and imply warn_only", Optional: true},
	{Name: "pty", Type: "boolean", Doc: "run in a pseudo-terminal (stderr merged into stdout)", Optional: true},
	{Name: "timeout", Type: "number", Doc: "seconds before the command is interrupted", Optional: true},
	{Name: "ok_codes", Type: "integer[]", Doc: "exit statuses that count as success (default {0})", Optional: true},
	{Name: "env", Type: "table<string, string>", Doc: "variables exported to the command", Optional: true},
	{Name: "stdin", Type: "string", Doc: "data written to the command's standard input", Optional: true},
	{Name: "check_safe", Type: "boolean", Doc: "the command only reads: run it under --check too", Optional: true},
}}

var sudoOptionsType = &luart.TableType{Name: "SudoOptions", Parent: runOptionsType, Fields: []luart.Field{
	{Name: "user", Type: "string", Doc: "run as this user (sudo -u)", Optional: true},
	{Name: "group", Type: "string", Doc: "run with this group (sudo -g)", Optional: true},
}}

var putOptionsType = &luart.TableType{Name: "PutOptions", Fields: []luart.Field{
	{Name: "mode", Type: "integer|string", Doc: "permission bits for every file written (e.g. \"0640\" or tonumber(\"640\", 8))", Optional: true},
	{Name: "mirror_local_mode", Type: "boolean", Doc: "give files their local permission bits", Optional: true},
	{Name: "owner", Type: "string", Doc: "chown files to this user (needs use_sudo unless you are root)", Optional: true},
	{Name: "group", Type: "string", Doc: "chown files to this group", Optional: true},
	{Name: "use_sudo", Type: "boolean", Doc: "write through sudo where the login user cannot", Optional: true},
	{Name: "temp_dir", Type: "string", Doc: "where sudo uploads stage their files (default /tmp)", Optional: true},
	{Name: "follow_links", Type: "boolean", Doc: "copy what symlinks point to instead of the links", Optional: true},
}}

var getOptionsType = &luart.TableType{Name: "GetOptions", Fields: []luart.Field{
	{Name: "use_sudo", Type: "boolean", Doc: "read files the login user cannot, with sudo", Optional: true},
}}

var syncOptionsType = &luart.TableType{Name: "SyncOptions", Fields: []luart.Field{
	{Name: "delete", Type: "boolean", Doc: "remove remote entries missing locally", Optional: true},
	{Name: "exclude", Type: "string[]", Doc: "glob patterns matched against relative paths and names", Optional: true},
	{Name: "use_sudo", Type: "boolean", Doc: "write as root (a docroot owned by root): staged, then put in place by one sudo script", Optional: true},
	{Name: "temp_dir", Type: "string", Doc: "where use_sudo stages the files (default /tmp)", Optional: true},
}}

var syncDetailsType = &luart.TableType{Name: "SyncDetails", Fields: []luart.Field{
	{Name: "files", Type: "string[]", Doc: "relative paths written or given a new mode"},
	{Name: "removed", Type: "string[]", Doc: "relative paths deleted"},
	{Name: "check", Type: "boolean", Doc: "the result of a --check run", Optional: true},
}}

var rebootOptionsType = &luart.TableType{Name: "RebootOptions", Fields: []luart.Field{
	{Name: "wait", Type: "number", Doc: "seconds the host may take to come back (default 120)", Optional: true},
	{Name: "command", Type: "string", Doc: "the command that reboots (default \"reboot\")", Optional: true},
}}
