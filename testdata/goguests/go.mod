module sissim.test/goguests

go 1.22
