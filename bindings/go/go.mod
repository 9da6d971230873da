module tokstream.dev/tokstream

go 1.19
