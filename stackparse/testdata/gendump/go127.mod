module gendump

go 1.27
