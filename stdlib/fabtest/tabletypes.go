package fabtest

import "github.com/gofab/gofab/luart"

// The option and result tables this package's functions take and give,
// declared once: calls are checked and LuaLS classes written from these.

var testCaseOptionsType = &luart.TableType{Name: "TestCaseOptions", Fields: []luart.Field{
	{Name: "hosts", Type: "string[]", Doc: "the case's host names, in the order fn gets them", Optional: true},
}}

var runTaskOptionsType = &luart.TableType{Name: "RunTaskOptions", Fields: []luart.Field{
	{Name: "check", Type: "boolean", Doc: "run as with --check", Optional: true},
	{Name: "dry_run", Type: "boolean", Doc: "run as with --dry-run", Optional: true},
	{Name: "diff", Type: "boolean", Doc: "run as with --diff", Optional: true},
	{Name: "set", Type: "table<string, string>", Doc: "env values, as --set gives them", Optional: true},
	{Name: "allow_failure", Type: "boolean", Doc: "a host failing the task does not fail the case", Optional: true},
}}

var fakeFileType = &luart.TableType{Name: "FakeFile", Fields: []luart.Field{
	{Name: "content", Type: "string", Optional: true},
	{Name: "mode", Type: "string|integer", Doc: "e.g. \"0644\" (default 0644, 0755 for dirs)", Optional: true},
	{Name: "owner", Type: "string", Doc: "default root", Optional: true},
	{Name: "group", Type: "string", Doc: "default the owner", Optional: true},
	{Name: "link", Type: "string", Doc: "make a symlink to this target", Optional: true},
	{Name: "dir", Type: "boolean", Doc: "make a directory", Optional: true},
}}

var assertFileOptionsType = &luart.TableType{Name: "AssertFileOptions", Fields: []luart.Field{
	{Name: "contains", Type: "string", Doc: "text the file holds", Optional: true},
	{Name: "matches", Type: "string", Doc: "Lua pattern the content matches", Optional: true},
	{Name: "equals", Type: "string", Doc: "the whole content", Optional: true},
	{Name: "mode", Type: "string|integer", Optional: true},
	{Name: "owner", Type: "string", Optional: true},
	{Name: "group", Type: "string", Optional: true},
	{Name: "link", Type: "string", Doc: "a symlink to this target", Optional: true},
	{Name: "dir", Type: "boolean", Doc: "a directory", Optional: true},
	{Name: "absent", Type: "boolean", Doc: "nothing is there", Optional: true},
}}

var responseType = &luart.TableType{Name: "Response", Fields: []luart.Field{
	{Name: "stdout", Type: "string", Optional: true},
	{Name: "stderr", Type: "string", Optional: true},
	{Name: "code", Type: "integer", Doc: "exit status (default 0)", Optional: true},
	{Name: "writes", Type: "table<string, string>", Doc: "files the command leaves behind (path = content), written as its user", Optional: true},
}}

var taskHostResultType = &luart.TableType{Name: "TaskHostResult", Fields: []luart.Field{
	{Name: "status", Type: "\"ok\"|\"failed\"|\"unreachable\"|\"skipped\"|\"interrupted\""},
	{Name: "error", Type: "string", Optional: true},
	{Name: "changed", Type: "integer"},
	{Name: "value", Type: "any", Doc: "the task's return value"},
}}

var taskRunType = &luart.TableType{Name: "TaskRun", Parent: taskHostResultType, Fields: []luart.Field{
	{Name: "ok", Type: "boolean", Doc: "every host succeeded"},
	{Name: "hosts", Type: "table<string, TaskHostResult>"},
	{Name: "output", Type: "string", Doc: "what gofab printed"},
}}

var recordedCommandType = &luart.TableType{Name: "RecordedCommand", Fields: []luart.Field{
	{Name: "kind", Type: "\"run\"|\"sudo\"|\"local\"|\"helper\""},
	{Name: "command", Type: "string", Doc: "as the recipe gave it"},
	{Name: "line", Type: "string", Doc: "what the host ran (with cd, exports, prefixes)"},
	{Name: "user", Type: "string", Doc: "whom it ran as"},
	{Name: "code", Type: "integer", Doc: "exit status"},
	{Name: "unscripted", Type: "string[]", Doc: "programs nothing answered"},
}}
