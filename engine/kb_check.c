/* kb_check.c: scaffold, being written */
#include "tshoot_int.h"
