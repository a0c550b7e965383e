/* search.c: scaffold, being written */
#include "tshoot_int.h"
