/* kb_read.c: scaffold, being written */
#include "tshoot_int.h"
