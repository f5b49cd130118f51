module github.com/ccotel/ccotel

go 1.26.8
