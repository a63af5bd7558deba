// The examples' README check (readme_test.go). Each example below is a
// module of its own.
module github.com/amqpleaks/amqpleaks/examples

go 1.22
