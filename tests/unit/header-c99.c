/* The public header compiles alone, as strict C99 (-pedantic -Werror). */
#include <tshoot.h>
int main(void)
{
  tshoot_compile_options co = TSHOOT_COMPILE_OPTIONS_INIT;
  tshoot_kb_options ko = TSHOOT_KB_OPTIONS_INIT;
  tshoot_search_options so = TSHOOT_SEARCH_OPTIONS_INIT;
  return (co.version == TSHOOT_COMPILE_OPTIONS_VERSION && ko.version == TSHOOT_KB_OPTIONS_VERSION &&
          so.version == TSHOOT_SEARCH_OPTIONS_VERSION && tshoot_libversion() != 0) ? 0 : 1;
}
