package files

import "github.com/gofab/gofab/luart"

// The option and result tables this package's functions take and give,
// declared once: calls are checked and LuaLS classes written from these.

var filesOptionsType = &luart.TableType{Name: "FilesOptions", Fields: []luart.Field{
	{Name: "use_sudo", Type: "boolean", Doc: "read and write as root with sudo", Optional: true},
}}

var containsOptionsType = &luart.TableType{Name: "ContainsOptions", Parent: filesOptionsType, Fields: []luart.Field{
	{Name: "exact", Type: "boolean", Doc: "the text must be a whole line", Optional: true},
	{Name: "escape", Type: "boolean", Doc: "treat text literally (default true); false makes it a regular expression", Optional: true},
	{Name: "case_sensitive", Type: "boolean", Doc: "default true", Optional: true},
}}

var appendOptionsType = &luart.TableType{Name: "AppendOptions", Parent: filesOptionsType, Fields: []luart.Field{
	{Name: "partial", Type: "boolean", Doc: "a line starting with the text counts as present", Optional: true},
	{Name: "escape", Type: "boolean", Doc: "treat text literally (default true)", Optional: true},
}}

var sedOptionsType = &luart.TableType{Name: "SedOptions", Parent: filesOptionsType, Fields: []luart.Field{
	{Name: "limit", Type: "string", Doc: "only lines matching this regular expression are edited", Optional: true},
	{Name: "backup", Type: "string|boolean", Doc: "suffix of the backup copy kept when the file changes (default \".bak\"; \"\" or false for none)", Optional: true},
	{Name: "flags", Type: "string", Doc: "\"i\" ignores case", Optional: true},
}}

var commentOptionsType = &luart.TableType{Name: "CommentOptions", Parent: filesOptionsType, Fields: []luart.Field{
	{Name: "char", Type: "string", Doc: "comment character (default \"#\")", Optional: true},
	{Name: "backup", Type: "string|boolean", Doc: "suffix of the backup copy (default \".bak\"; \"\" or false for none)", Optional: true},
}}

var writeOptionsType = &luart.TableType{Name: "WriteOptions", Parent: filesOptionsType, Fields: []luart.Field{
	{Name: "mode", Type: "integer|string", Doc: "permission bits, e.g. \"0644\"", Optional: true},
	{Name: "owner", Type: "string", Optional: true},
	{Name: "group", Type: "string", Optional: true},
}}

var templateOptionsType = &luart.TableType{Name: "TemplateOptions", Parent: writeOptionsType, Fields: []luart.Field{
	{Name: "backup", Type: "boolean|string", Doc: "keep the old content in remote..\".bak\" (or the given suffix) when it changes (default true)", Optional: true},
	{Name: "template_dir", Type: "string", Doc: "directory the template path is relative to", Optional: true},
}}
