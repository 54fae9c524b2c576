// Package stdlib lists gofab's built-in Lua modules. Modules returns the one
// list; cmd injects it into the runtime.
package stdlib

import (
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/cuisine"
	"github.com/gofab/gofab/stdlib/fabtest"
	"github.com/gofab/gofab/stdlib/files"
	"github.com/gofab/gofab/stdlib/ops"
	"github.com/gofab/gofab/stdlib/secrets"
)

// Modules returns every built-in module, globals first.
func Modules() []luart.Module {
	return []luart.Module{ops.Module(), files.Module(), cuisine.Module(), secrets.Module()}
}

// All returns luart's own globals followed by Modules and the testing
// module of *_test.lua files: everything a recipe can call, for
// documentation and editor types.
func All() []luart.Module {
	return append(append(luart.Builtins(), Modules()...), fabtest.Module(nil))
}
