module gendump

go 1.21
