package cuisine

import "github.com/gofab/gofab/luart"

// The option and result tables this package's functions take and give,
// declared once: calls are checked and LuaLS classes written from these.

var cuisineDetailsType = &luart.TableType{Name: "CuisineDetails", Fields: []luart.Field{
	{Name: "check", Type: "boolean", Doc: "the result of a --check run (changed says what would change)", Optional: true},
	{Name: "installed", Type: "string[]", Doc: "package_ensure: the packages installed now", Optional: true},
	{Name: "removed", Type: "string[]", Doc: "package_remove: the packages removed", Optional: true},
	{Name: "backend", Type: "string", Doc: "package_ensure: the package manager used", Optional: true},
	{Name: "key", Type: "string", Doc: "ssh_keygen: the public key", Optional: true},
}}

var cuisineOptionsType = &luart.TableType{Name: "CuisineOptions", Fields: []luart.Field{
	{Name: "use_sudo", Type: "boolean", Doc: "act as root", Optional: true},
}}

var attribOptionsType = &luart.TableType{Name: "AttribOptions", Parent: cuisineOptionsType, Fields: []luart.Field{
	{Name: "mode", Type: "string|integer", Doc: "permission bits such as \"0644\"", Optional: true},
	{Name: "owner", Type: "string", Optional: true},
	{Name: "group", Type: "string", Optional: true},
	{Name: "recursive", Type: "boolean", Doc: "also everything below a directory", Optional: true},
}}

var userOptionsType = &luart.TableType{Name: "UserOptions", Parent: cuisineOptionsType, Fields: []luart.Field{
	{Name: "uid", Type: "integer", Optional: true},
	{Name: "gid", Type: "integer|string", Doc: "primary group", Optional: true},
	{Name: "home", Type: "string", Optional: true},
	{Name: "shell", Type: "string", Optional: true},
	{Name: "passwd", Type: "string", Doc: "password (sent on stdin, never in a command line)", Optional: true},
	{Name: "encrypted", Type: "boolean", Doc: "passwd is already a crypt(3) hash", Optional: true},
	{Name: "groups", Type: "string[]", Doc: "supplementary groups the user must be in", Optional: true},
	{Name: "system", Type: "boolean", Doc: "a system account", Optional: true},
	{Name: "createhome", Type: "boolean", Doc: "create the home directory (default true)", Optional: true},
	{Name: "rmhome", Type: "boolean", Doc: "user_remove: remove the home directory too", Optional: true},
}}

var fileLinkOptionsType = &luart.TableType{Name: "FileLinkOptions", Parent: cuisineOptionsType, Fields: []luart.Field{
	{Name: "symbolic", Type: "boolean", Doc: "a symbolic link (default true); false: a hard link", Optional: true},
}}

var dirRemoveOptionsType = &luart.TableType{Name: "DirRemoveOptions", Parent: cuisineOptionsType, Fields: []luart.Field{
	{Name: "recursive", Type: "boolean", Doc: "remove what it holds too (default true); false: only when empty", Optional: true},
}}

var passwdOptionsType = &luart.TableType{Name: "PasswdOptions", Fields: []luart.Field{
	{Name: "encrypted", Type: "boolean", Doc: "passwd is already a crypt(3) hash", Optional: true},
}}

var groupOptionsType = &luart.TableType{Name: "GroupOptions", Fields: []luart.Field{
	{Name: "gid", Type: "integer", Doc: "the group's id", Optional: true},
}}

var keygenOptionsType = &luart.TableType{Name: "KeygenOptions", Fields: []luart.Field{
	{Name: "keytype", Type: "string", Doc: "ed25519 (default), rsa or ecdsa", Optional: true},
}}

var processFindOptionsType = &luart.TableType{Name: "ProcessFindOptions", Fields: []luart.Field{
	{Name: "exact", Type: "boolean", Doc: "match the command name exactly instead of a part of the command line", Optional: true},
}}

var processKillOptionsType = &luart.TableType{Name: "ProcessKillOptions", Parent: processFindOptionsType, Fields: []luart.Field{
	{Name: "signal", Type: "string", Doc: "the signal to send (default TERM)", Optional: true},
	{Name: "use_sudo", Type: "boolean", Doc: "act as root", Optional: true},
}}

var replaceLineOptionsType = &luart.TableType{Name: "ReplaceLineOptions", Fields: []luart.Field{
	{Name: "find", Type: "boolean", Doc: "replace lines containing old, not only lines equal to it", Optional: true},
}}
