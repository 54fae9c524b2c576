package luart

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/fuzzy"
	"github.com/gofab/gofab/internal/base/host"
)

// Decode sets the fields of the struct dst points to from tbl, a table of
// this type (nil: no options). Each exported field tagged `lua:"name"`
// takes option name, when it is present, converted to the field's Go
// type; an absent option leaves the field as the caller set it, its
// default. The Go types and what they take:
//
//	bool           any value, as Lua's truth (nil and false are false)
//	string         a string or a number
//	*string        the same, and says whether it was given
//	int            a whole number
//	float64        a number
//	time.Duration  a number of seconds (as timeout = 1.5)
//	[]int          a list of whole numbers
//	[]string       a list of strings (or numbers)
//	*int           a whole number, and says whether it was given
//	NameList       a list of strings, or one string of comma-separated names
//	lua.LValue     the value as given, for the function to read itself
//	LuaDecoder     whatever its DecodeLua takes
//
// A value of the wrong type is an error naming the option and what it
// must be; a string outside the field's declared Enum is one naming the
// values allowed and the closest. A tag naming a field the type does not
// declare is a bug in gofab, so it panics (and tests catch it).
func (t *TableType) Decode(tbl *lua.LTable, dst any) error {
	return t.decodeStruct(tbl, reflect.ValueOf(dst).Elem())
}

// decodeStruct is Decode for one struct, embedded ones included (SudoOptions'
// Go struct embeds RunOptions').
func (t *TableType) decodeStruct(tbl *lua.LTable, v reflect.Value) error {
	for i := 0; i < v.NumField(); i++ {
		sf := v.Type().Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if err := t.decodeStruct(tbl, v.Field(i)); err != nil {
				return err
			}
			continue
		}
		name := sf.Tag.Get("lua")
		if name == "" {
			continue
		}
		f, ok := t.field(name)
		if !ok {
			panic(fmt.Sprintf("luart: %s has no field %q for %s.%s: declare it", t.Name, name, v.Type().Name(), sf.Name))
		}
		if tbl == nil {
			continue
		}
		lv := tbl.RawGetString(name)
		if lv == lua.LNil {
			continue
		}
		if err := decodeValue(v.Field(i), lv); err != nil {
			return fmt.Errorf("%s must be %s", name, err.Error())
		}
		if s, ok := lv.(lua.LString); ok && len(f.Enum) > 0 && !slices.Contains(f.Enum, string(s)) {
			msg := fmt.Sprintf("%s must be one of %s, not %q", name, strings.Join(f.Enum, ", "), string(s))
			if near := fuzzy.Closest(string(s), f.Enum, 3); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			return errors.New(msg)
		}
	}
	return nil
}

// field returns the declaration of field name, the parent's included.
func (t *TableType) field(name string) (Field, bool) {
	for ; t != nil; t = t.Parent {
		for _, f := range t.Fields {
			if f.Name == name {
				return f, true
			}
		}
	}
	return Field{}, false
}

// LuaDecoder is a Go type that decodes an option's Lua value itself; its
// error says what the value must be ("a list of names").
type LuaDecoder interface {
	DecodeLua(lv lua.LValue) error
}

// NameList is a list of names (hosts, roles, aliases): a Lua list of
// strings, or one string of names separated by commas, as -H takes them.
type NameList []string

// DecodeLua implements LuaDecoder, as stringList reads host lists.
func (n *NameList) DecodeLua(lv lua.LValue) error {
	pv, err := ToPlain(lv)
	if err == nil {
		*n, err = stringList(pv)
	}
	if err != nil {
		return wantError("a list of names, or names separated by commas")
	}
	return nil
}

// wantError is what a value must be, for Decode's message.
type wantError string

func (w wantError) Error() string { return string(w) }

// decodeValue sets field from lv; the error says what lv must be.
func decodeValue(field reflect.Value, lv lua.LValue) error {
	if field.Kind() == reflect.Pointer { // *int, *string: set, and given
		v := reflect.New(field.Type().Elem())
		if err := decodeValue(v.Elem(), lv); err != nil {
			return err
		}
		field.Set(v)
		return nil
	}
	switch p := field.Addr().Interface().(type) {
	case LuaDecoder:
		return p.DecodeLua(lv)
	case *bool:
		*p = lua.LVAsBool(lv)
	case *string:
		s, ok := luaString(lv)
		if !ok {
			return wantError("a string")
		}
		*p = s
	case *int:
		n, ok := wholeNumber(lv)
		if !ok {
			return wantError("a whole number")
		}
		*p = n
	case *float64:
		n, ok := lv.(lua.LNumber)
		if !ok {
			return wantError("a number")
		}
		*p = float64(n)
	case *time.Duration:
		n, ok := lv.(lua.LNumber)
		d, err := host.Seconds(float64(n))
		if !ok || err != nil {
			return wantError("a number of seconds")
		}
		*p = d
	case *[]int:
		list, ok := listOf(lv, wholeNumber)
		if !ok {
			return wantError("a list of whole numbers")
		}
		*p = list
	case *[]string:
		list, ok := listOf(lv, luaString)
		if !ok {
			return wantError("a list of strings")
		}
		*p = list
	case *lua.LValue:
		*p = lv
	default:
		panic(fmt.Sprintf("luart: Decode cannot set a %s", field.Type()))
	}
	return nil
}

// luaString is a string or a number's text.
func luaString(lv lua.LValue) (string, bool) {
	switch lv.(type) {
	case lua.LString, lua.LNumber:
		return lv.String(), true
	}
	return "", false
}

// wholeNumber is a number without a fraction that an int holds.
func wholeNumber(lv lua.LValue) (int, bool) {
	n, ok := lv.(lua.LNumber)
	if !ok || float64(n) != math.Trunc(float64(n)) || math.Abs(float64(n)) > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// listOf converts a Lua list (a table with keys 1…n only) element by
// element.
func listOf[T any](lv lua.LValue, conv func(lua.LValue) (T, bool)) ([]T, bool) {
	tbl, ok := lv.(*lua.LTable)
	if !ok {
		return nil, false
	}
	out := []T{}
	n := 0
	good := true
	tbl.ForEach(func(lua.LValue, lua.LValue) { n++ })
	for i := 1; i <= tbl.Len(); i++ {
		x, ok := conv(tbl.RawGetInt(i))
		good = good && ok
		out = append(out, x)
	}
	return out, good && n == len(out)
}
