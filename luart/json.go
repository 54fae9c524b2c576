package luart

import (
	"bytes"
	"encoding/json"

	lua "github.com/yuin/gopher-lua"
)

// jsonModule is require("json"), on the standard library's encoding/json.
var jsonModule = Module{
	Name: "json",
	Doc:  "JSON encoding and decoding of plain data (tables of strings, numbers, booleans and tables).",
	Funcs: []Func{
		{Name: "encode", Doc: "Returns value as JSON: a sequence becomes an array, any other table an object (keys sorted); an empty table is {}. With indent, pretty-printed.",
			Params:  []Param{{Name: "value", Type: "any"}, {Name: "indent", Type: "string", Optional: true}},
			Returns: []Param{{Type: "string"}},
			Fn:      luaJSONEncode},
		{Name: "decode", Doc: "Parses JSON text into Lua values (null becomes nil; numbers become numbers). Raises an error naming the offset on bad input.",
			Params:  []Param{{Name: "text", Type: "string"}},
			Returns: []Param{{Type: "any"}},
			Fn:      luaJSONDecode},
	},
}

func luaJSONEncode(st *State) int {
	L := st.L
	v, err := ToPlain(L.Get(1))
	if err != nil {
		L.ArgError(1, "json.encode: "+err.Error())
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent := L.OptString(2, ""); indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		L.RaiseError("json.encode: %v", err)
	}
	L.Push(lua.LString(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
	return 1
}

func luaJSONDecode(st *State) int {
	L := st.L
	text := L.CheckString(1)
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	var v any
	if err := dec.Decode(&v); err != nil {
		L.RaiseError("json.decode: %v", err)
	}
	if dec.More() {
		L.RaiseError("json.decode: text after the JSON value at offset %d", dec.InputOffset())
	}
	// Decoded JSON is plain data already: numbers are float64, objects
	// map[string]any, arrays []any, null nil.
	L.Push(FromPlain(L, v))
	return 1
}
