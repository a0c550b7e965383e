/* kb_compile.c: scaffold, being written */
#include "tshoot_int.h"
