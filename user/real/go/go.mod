module posix-x/real-go

go 1.19
