package thirdparty

// AllCases returns every case of the suite.
func AllCases() []Case {
	var all []Case
	for _, suite := range [][]Case{
		busyboxCases(),
		toyboxCases(),
		coreutilsCases(),
		shellCases(),
		toolCases(),
	} {
		all = append(all, suite...)
	}
	return all
}

// The helpers below build cases compactly; each returns a modified copy.

// in sets the standard input.
func (c Case) in(stdin string) Case { c.Stdin = stdin; return c }

// with adds fixtures.
func (c Case) with(fixtures ...string) Case {
	c.Fixtures = append(append([]string(nil), c.Fixtures...), fixtures...)
	return c
}

// file adds a file to the working directory.
func (c Case) file(name, content string) Case {
	files := map[string]string{}
	for k, v := range c.Files {
		files[k] = v
	}
	files[name] = content
	c.Files = files
	return c
}

// env adds environment variables.
func (c Case) env(kv ...string) Case {
	c.Env = append(append([]string(nil), c.Env...), kv...)
	return c
}

// qemuWrong marks a case where qemu-user is no reference, with Linux's
// result.
func (c Case) qemuWrong(reason string, want Want) Case {
	c.QemuWrong = reason
	c.Want = &want
	return c
}

// dataText is testdata/fixtures/data.txt, for the cases that build on it.
const dataText = "banana\napple\ncherry\napple\n\tindented line\nlast line without newline"

// binaryStrings is a file mixing binary bytes and text, for strings(1).
const binaryStrings = "\x00\x01\x02hello world\x00\x7f\x03ab\x00\xfflonger string here\n\x00tail"

// patchText is a unified diff of data.txt (apple -> APPLE on line 2).
const patchText = `--- data.txt
+++ data.txt
@@ -1,3 +1,3 @@
 banana
-apple
+APPLE
 cherry
`
