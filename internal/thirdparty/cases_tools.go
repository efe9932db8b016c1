package thirdparty

// tool is a case of one program with arguments, in a directory holding
// data.txt.
func tool(suite, name, prog string, args ...string) Case {
	return Case{Suite: suite, Name: name, Prog: prog, Args: args, Fixtures: []string{"data.txt"}}
}

const itemsJSON = `{"items":[{"name":"apple","n":3,"tags":["red","fruit"]},{"name":"kale","n":1,"tags":[]},{"name":"plum","n":7,"tags":["fruit"]}],"meta":{"ok":true,"z":null}}`

// sqliteContention has two sqlite3 processes contend for one database: a
// writer (which waits for readers with .timeout) holds an exclusive lock
// until told to let go, and meanwhile a second process's write and read
// fail at once with "database is locked".
const sqliteContention = `sqlite3 db 'create table t(x); insert into t values(1);'
{ echo '.timeout 60000'; echo 'BEGIN EXCLUSIVE;'; echo 'INSERT INTO t VALUES(2);'
  while [ ! -e released ]; do :; done
  echo 'COMMIT;'; } | sqlite3 db &
i=0
until ! sqlite3 db 'select count(*) from t' >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 200 ] || { echo 'the writer never took its lock'; break; }
done
sqlite3 db 'insert into t values(3);'; echo "insert while locked: $?"
sqlite3 db 'select count(*) from t;'; echo "read while locked: $?"
: > released; wait
sqlite3 db 'select group_concat(x) from t;'
`

const luaScript = `local t = {}
for w in ("the sis kernel runs lua"):gmatch("%a+") do t[#t+1] = w:upper() end
print(table.concat(t, "-"), #t)
local function counter() local n = 0; return function() n = n + 1; return n end end
local c = counter(); c(); print("counter", c())
print(string.format("%5.2f|%-4s|%x|%q", math.pi, "ab", 255, "q\n"))
print(math.maxinteger, 7 // 2, 7 % -3, 2^0.5, math.type(1), math.type(1.0))
local co = coroutine.wrap(function(a) local b = coroutine.yield(a * 2); return a + b end)
print("co", co(5), co(10))
local f = assert(io.open("out.txt", "w")); f:write("line1\nline2\n"); f:close()
for l in io.lines("out.txt") do io.write("[", l, "]") end print()
print(os.getenv("TZ"), os.date("!%Y-%m-%d %H:%M:%S", 86400 * 365), os.time{year=2020, month=1, day=1, hour=0})
print(utf8.char(233, 8364), utf8.len("\u{e9}\u{20ac}"), string.unpack("<i4", string.pack("<i4", -2)))
print(pcall(error, {code = 3}), select("#", 1, nil, 3))
local ok, err = pcall(function() local x = nil; return x.y end); print(ok, err)
`

const gawkScript = `BEGIN { FS = ","; PROCINFO["sorted_in"] = "@ind_str_asc" }
NR > 1 { total[$1] += $2; count[$1]++; names = names sep toupper($1); sep = "|" }
END {
  for (k in total) printf "%-6s %5.1f %d\n", k, total[k] / count[k], count[k]
  n = split(names, parts, "|"); print n, parts[1], gensub(/([A-Z])([A-Z]+)/, "\\2\\1", "g", names)
  m = asort(total, sorted); print m, sorted[1], sorted[m]
  print strftime("%Y-%m-%d %H:%M:%S", 1234567890, 1), length(total), index("sissim", "sim")
  if (match("key=value", /(\w+)=(\w+)/, cap)) print cap[1], cap[2]
  while ((getline line < "data.txt") > 0) if (line ~ /^a/) c++; print "a-lines", c
  printf "%c%c %i %e\n", 65, "hello", 3.99, 12345.678
}
`

// tiniQuiet turns tini's warnings off.
const tiniQuiet = "TINI_VERBOSITY=0"

const salesCSV = "name,amount\npear,3\nfig,10\npear,5\nfig,2.5\nlime,1\n"

// toolCases run sqlite3, jq, lua, gawk, tini, e2fsprogs and gpgv.
func toolCases() []Case {
	gpg := []string{"key.gpg", "msg.txt", "msg.txt.sig", "msg.txt.asc", "msg.txt.other.sig"}
	return []Case{
		// sqlite3 on file databases
		tool("sqlite3", "file-db", "sqlite3", "test.db", "create table t(a integer primary key, b text); insert into t(b) values ('one'),('two'),('three'); select a, b from t order by a desc;"),
		tool("sqlite3", "memory", "sqlite3", ":memory:", "select 6*7, upper('sis'), json_array(1, 2, 'x'), printf('%08.3f', 3.14159), total(value) from json_each('[1,2,3.5]');"),
		tool("sqlite3", "json-mode", "sqlite3", "-json", "test.db", "create table t(k, v); insert into t values ('a', 1), ('b', null); select * from t;"),
		tool("sqlite3", "dump", "sqlite3", "test.db", "create table t(x text); insert into t values ('it''s'); create index ix on t(x);", ".dump"),
		tool("sqlite3", "wal", "sqlite3", "wal.db", "pragma journal_mode=wal; create table t(x); insert into t values (1),(2); select sum(x) from t; pragma wal_checkpoint;"),
		tool("sqlite3", "import", "sqlite3", "-csv", "-header", "test.db", ".import sales.csv sales", "select name, sum(amount) from sales group by name order by name;").file("sales.csv", salesCSV),
		tool("sqlite3", "error", "sqlite3", "test.db", "select * from missing;"),
		tool("sqlite3", "contention", "dash", "-c", sqliteContention),
		// jq
		tool("jq", "select", "jq", `.items[] | select(.n > 1) | "\(.name): \(.n)"`, "in.json").file("in.json", itemsJSON),
		tool("jq", "raw-formats", "jq", "-r", `.items[0] | ([.name, .n] | @csv, @tsv), (.name | @base64), @uri "q=\(.name)&n=\(.n)"`, "in.json").file("in.json", itemsJSON),
		tool("jq", "args", "jq", "-n", "--arg", "x", "5", "--argjson", "y", `{"a":[1,2]}`, `($x | tonumber) * 2, $y.a[1], $ENV.TZ, env.LC_ALL`),
		tool("jq", "slurp", "jq", "-s", "-c", "add, length, (map(. * 2) | sort)").in("3 1 2\n"),
		tool("jq", "sort-keys", "jq", "-S", "-c", ".").in(itemsJSON),
		tool("jq", "paths", "jq", "-c", `[paths(type == "number")], (.meta | to_entries), ([.items[].tags | length] | add)`, "in.json").file("in.json", itemsJSON),
		tool("jq", "dates", "jq", "-n", "-r", `0 | todate, ("2015-03-05T23:51:47Z" | fromdate), (1425599507 | strftime("%A %B %d %Y"))`),
		tool("jq", "exit-status", "jq", "-e", ".missing").in(`{"present":1}`),
		tool("jq", "parse-error", "jq", ".").in(`{"a": [1, 2,}`),
		tool("jq", "reduce", "jq", "-n", "-c", `reduce range(1; 11) as $i (0; . + $i), [limit(4; repeat(1))], ([range(5)] | map(select(. % 2 == 0)))`),
		// lua5.4
		tool("lua", "script", "lua5.4", "t.lua").file("t.lua", luaScript),
		tool("lua", "error", "lua5.4", "-e", "local t = {}\nerror('boom: ' .. #t)"),
		tool("lua", "exit", "lua5.4", "-e", "io.stderr:write('leaving\\n'); os.exit(3)"),
		tool("lua", "stdin", "lua5.4", "-e", "for l in io.lines() do print(#l, l:reverse()) end").in("abc\nsis kernel\n"),
		tool("lua", "popen", "lua5.4", "-e", "local p = io.popen('echo from a shell'); io.write(p:read('a')); print(p:close())").
			qemuWrong("qemu-user hands popen's execve of /bin/sh to the host kernel, which runs the host's /bin/sh", Want{Stdout: "from a shell\ntrue\texit\t0\n"}),
		// gawk
		tool("gawk", "script", "gawk", "-f", "t.awk", "sales.csv").file("t.awk", gawkScript).file("sales.csv", salesCSV),
		tool("gawk", "bignum", "gawk", "-M", "BEGIN { print 2^200, 3^100 % 1000007 }"),
		tool("gawk", "fields", "gawk", "-v", "OFS=|", "{ $1 = toupper(substr($1, 1, 3)); NF = 2; print NR, $0 }", "data.txt"),
		tool("gawk", "environ", "gawk", `BEGIN { print ENVIRON["TZ"], ARGC, ARGV[1]; exit 4 }`, "arg"),
		tool("gawk", "syntax-error", "gawk", "BEGIN { print 1 +* 2 }"),
		tool("gawk", "version", "gawk", "--version"),
		// tini: an init for one child. Outside PID 1 and without -s it
		// warns with its PID; TINI_VERBOSITY=0 keeps that out.
		tool("tini", "child", "tini", "--", "printenv", "TZ").env(tiniQuiet),
		tool("tini", "exit-code", "tini", "--", "bash-static", "-c", "echo child; exit 7").env(tiniQuiet),
		tool("tini", "remap", "tini", "-e", "3", "--", "bash-static", "-c", "exit 3").env(tiniQuiet),
		tool("tini", "signal", "tini", "--", "bash-static", "-c", "kill -TERM $$").env(tiniQuiet),
		tool("tini", "group", "tini", "-g", "--", "bash-static", "-c", "echo group; exit 2").env(tiniQuiet),
		tool("tini", "orphan", "tini", "--", "bash-static", "-c", "(sleep 0.2; echo orphan done) & echo parent exits").env(tiniQuiet),
		tool("tini", "static", "tini-static", "--", "printenv", "LC_ALL").env(tiniQuiet),
		tool("tini", "version", "tini", "--version"),
		tool("tini", "subreaper", "tini", "-s", "--", "printenv", "TZ").
			qemuWrong("qemu-user 7.2 rejects prctl(PR_SET_CHILD_SUBREAPER), so tini -s gives up", Want{Stdout: "UTC0\n"}),
		// e2fsprogs on images
		tool("e2fsck", "clean", "e2fsck.static", "-fn", "ext2-clean.img").with("ext2-clean.img"),
		tool("e2fsck", "broken", "e2fsck.static", "-fn", "ext2-broken.img").with("ext2-broken.img"),
		tool("e2fsck", "repair", "e2fsck.static", "-fy", "ext2-broken.img").with("ext2-broken.img"),
		tool("e2fsck", "dynamic", "e2fsck", "-fn", "ext2-clean.img").with("ext2-clean.img"),
		tool("e2fsck", "dumpe2fs", "dumpe2fs", "-h", "ext2-clean.img").with("ext2-clean.img"),
		tool("e2fsck", "debugfs", "debugfs", "-R", "ls -l /dir", "ext2-clean.img").with("ext2-clean.img"),
		tool("e2fsck", "mke2fs", "mke2fs", "-F", "-t", "ext2", "-b", "1024", "-N", "32", "-U", "0b6bd7a4-1c1d-4e8f-a3b5-9f2d1e0c4b11",
			"-E", "hash_seed=0b6bd7a4-1c1d-4e8f-a3b5-9f2d1e0c4b11", "new.img", "512").env("E2FSPROGS_FAKE_TIME=1577836800"),
		// gpgv on signed files
		tool("gpgv", "good", "gpgv", "--keyring", "./key.gpg", "msg.txt.sig", "msg.txt").with(gpg...),
		tool("gpgv", "clearsigned", "gpgv", "--keyring", "./key.gpg", "msg.txt.asc").with(gpg...),
		tool("gpgv", "status-fd", "gpgv", "--status-fd", "1", "--keyring", "./key.gpg", "msg.txt.sig", "msg.txt").with(gpg...),
		tool("gpgv", "bad", "gpgv", "--keyring", "./key.gpg", "msg.txt.sig", "tampered.txt").with(gpg...).file("tampered.txt", "The SIS kernel runs fake programs.\n"),
		tool("gpgv", "no-key", "gpgv", "--keyring", "./key.gpg", "msg.txt.other.sig", "msg.txt").with(gpg...),
		tool("gpgv", "static", "gpgv-static", "--keyring", "./key.gpg", "msg.txt.sig", "msg.txt").with(gpg...),
	}
}
