package luart

import (
	"bytes"
	"encoding/json"
	"sort"

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
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		L.RaiseError("json.decode: %v", err)
	}
	if dec.More() {
		L.RaiseError("json.decode: text after the JSON value at offset %d", dec.InputOffset())
	}
	L.Push(fromJSON(L, v))
	return 1
}

// fromJSON converts decoded JSON to Lua, numbers from json.Number.
func fromJSON(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return lua.LString(x.String())
		}
		return lua.LNumber(f)
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(fromJSON(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.RawSetString(k, fromJSON(L, x[k]))
		}
		return t
	case nil:
		return lua.LNil
	}
	return FromPlain(L, v)
}
