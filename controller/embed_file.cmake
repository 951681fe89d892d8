# Turns a file into a C array, so the binary carries it (the OpenAPI document the controller
# serves). Run as: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_file.cmake
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t"
	bytes "${bytes}")
file(WRITE ${OUT}.tmp "/* generated from ${IN} by embed_file.cmake: do not edit */\n#include <stddef.h>\n"
	"const unsigned char ${NAME}[] = {\n\t${bytes}\n};\nconst size_t ${NAME}_len = ${len};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
